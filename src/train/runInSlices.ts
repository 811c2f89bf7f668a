import { CpuExecutor } from '../plan/cpuExecutor.ts';
import type { Executor } from '../plan/executor.ts';
import { GpuExecutor } from '../plan/gpuExecutor.ts';

// The CPU executor runs a segment synchronously: an epoch of steps would hold
// the event loop for its whole length, and Ctrl-C (whose handler says which
// checkpoint is kept and removes temporary files) could not run until the
// epoch ended; tsx, which relays the signal to the process it started, kills
// it outright when it does not answer within a few tens of milliseconds. So
// the CPU path runs in slices of about SLICE_MS with an event-loop turn
// between them. The steps are the same, in the same order: the results are
// identical. The GPU executor is asynchronous already and runs unsliced,
// unless someone watches the steps (`onSteps`): then it queues the epoch as
// GPU_CHUNKS submits at once and reports each as the device finishes it, so
// the GPU never waits on the host between them.

const SLICE_MS = 20;
const GPU_CHUNKS = 32;

/** `done` of `total` steps have run (called with 0 before the first). */
export type OnSteps = (done: number, total: number) => void;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runInSlices(exec: Executor, repeat: number, segment: string, onSteps?: OnSteps): Promise<void> {
  if (!(exec instanceof CpuExecutor)) {
    if (onSteps && exec instanceof GpuExecutor) {
      onSteps(0, repeat);
      await exec.runInChunks(repeat, segment, GPU_CHUNKS, (done) => onSteps(done, repeat));
    } else {
      await exec.run(repeat, segment);
    }
    return;
  }
  onSteps?.(0, repeat);
  let slice = 1;
  for (let done = 0; done < repeat; ) {
    const n = Math.min(slice, repeat - done);
    const t0 = performance.now();
    exec.run(n, segment);
    done += n;
    const ms = performance.now() - t0;
    slice = ms < SLICE_MS / 2 ? slice * 2 : Math.max(1, Math.round((slice * SLICE_MS) / Math.max(ms, 1e-3)));
    onSteps?.(done, repeat);
    await turn();
  }
}
