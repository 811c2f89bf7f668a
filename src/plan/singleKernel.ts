import type { Gpu } from '../gpu/device.ts';
import type { HostArray, Kernel } from '../kernels/kernel.ts';
import { HEURISTIC_TARGET } from '../kernels/gemm.ts';
import type { GpuTarget } from '../kernels/gpuTarget.ts';
import { CpuExecutor } from './cpuExecutor.ts';
import { GpuExecutor } from './gpuExecutor.ts';
import { Plan } from './plan.ts';

// One kernel on both executors with the same inputs: what the equivalence
// tests and run.ts's self-check are made of.

/** A plan of one call whose tensors are named after the kernel's slots. */
export function singleKernelPlan(kernel: Kernel): Plan {
  const plan = new Plan();
  for (const [slot, spec] of Object.entries(kernel.slots)) plan.tensor(slot, spec.shape, spec.dtype);
  plan.call(kernel, Object.fromEntries(Object.keys(kernel.slots).map((s) => [s, s])));
  return plan;
}

export interface BothResults {
  readonly gpu: Record<string, HostArray>;
  readonly cpu: Record<string, HostArray>;
}

/** Every slot not given in `inputs` is poisoned with NaN (u32 slots with
 * 0xFFFFFFFF) first, so an output element a kernel forgets to write cannot
 * pass for a right one. */
export async function runOnBoth(
  gpu: Gpu,
  kernel: Kernel,
  inputs: Readonly<Record<string, ArrayLike<number>>>,
  target: GpuTarget = HEURISTIC_TARGET,
): Promise<BothResults> {
  const plan = singleKernelPlan(kernel);
  const gpuExec = await GpuExecutor.create(gpu, plan, target);
  const cpuExec = new CpuExecutor(plan);
  try {
    for (const [slot, spec] of Object.entries(kernel.slots)) {
      const size = plan.get(slot).size;
      const data = inputs[slot] ?? new Array<number>(size).fill(spec.dtype === 'u32' ? 0xffffffff : Number.NaN);
      gpuExec.write(slot, data);
      cpuExec.write(slot, data);
    }
    cpuExec.run();
    await gpuExec.run();
    const out: BothResults = { gpu: {}, cpu: {} };
    for (const slot of Object.keys(kernel.slots)) {
      out.gpu[slot] = await gpuExec.read(slot);
      out.cpu[slot] = cpuExec.read(slot);
    }
    return out;
  } finally {
    gpuExec.destroy();
  }
}

/** max |a - b| / max |b|: error relative to the reference's scale, so that
 * outputs that happen to be near zero do not dominate. Non-finite values on
 * either side count as infinite error. */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`maxRelError: length ${actual.length} vs ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!Number.isFinite(a) || !Number.isFinite(e)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return scale === 0 ? diff : diff / scale;
}
