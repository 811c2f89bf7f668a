import type { Access, GpuDispatch, HostArray, Kernel } from '../kernels/kernel.ts';
import { elementCount, formatShape, scratchOf } from '../kernels/kernel.ts';
import { HEURISTIC_TARGET } from '../kernels/gemm.ts';
import type { GpuTarget } from '../kernels/gpuTarget.ts';
import type { Gpu } from '../gpu/device.ts';
import { GpuError, checked, unlessLost } from '../gpu/errors.ts';
import { compileDispatch } from '../gpu/pipelines.ts';
import type { Plan, PlannedTensor } from './plan.ts';

// Runs a plan on the GPU. Everything is built once in `create`: one buffer
// per root tensor (views bind a range of their root), one pipeline per kernel
// variant, one bind group and uniform buffer per dispatch. `run(n)` then only
// records n repetitions of the plan into one compute pass and submits once.

interface RecordedDispatch {
  readonly kernel: string;
  /** Index of the plan call this dispatch belongs to. */
  readonly call: number;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** Machine-independent counters, for benchmarks and for proving that a
 * training epoch does not talk to the host. */
export interface ExecutorStats {
  dispatches: number;
  submits: number;
  hostReads: number;
  bytesUploaded: number;
}

export class GpuExecutor {
  readonly stats: ExecutorStats = { dispatches: 0, submits: 0, hostReads: 0, bytesUploaded: 0 };

  private constructor(
    readonly gpu: Gpu,
    readonly plan: Plan,
    private readonly buffers: ReadonlyMap<string, GPUBuffer>,
    private readonly dispatches: readonly RecordedDispatch[],
    private readonly owned: readonly GPUBuffer[],
  ) {}

  /** `target` picks the variant of every kernel that has several (the GEMMs);
   * the autotuner (src/gpu/autotune.ts) makes one from measurements. */
  static async create(gpu: Gpu, plan: Plan, target: GpuTarget = HEURISTIC_TARGET): Promise<GpuExecutor> {
    const { device } = gpu;
    const owned: GPUBuffer[] = [];
    const buffers = new Map<string, GPUBuffer>();
    await checked(gpu, 'allocating plan tensors', () => {
      for (const t of plan.tensors.values()) {
        if (t.view) continue;
        const buffer = device.createBuffer({
          label: t.name,
          size: Math.max(16, Math.ceil((t.size * 4) / 16) * 16),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        buffers.set(t.name, buffer);
        owned.push(buffer);
      }
    });
    const dispatches: RecordedDispatch[] = [];
    for (const [index, call] of plan.calls.entries()) {
      const scratch = new Map<string, GPUBuffer>();
      await checked(gpu, `allocating scratch of ${call.kernel.name}`, () => {
        for (const [name, spec] of Object.entries(scratchOf(call.kernel, target))) {
          const b = device.createBuffer({
            label: `${call.kernel.name}#${index}.${name}`,
            size: Math.max(16, Math.ceil((elementCount(spec.shape) * 4) / 16) * 16),
            usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
          });
          scratch.set(name, b);
          owned.push(b);
        }
      });
      for (const d of call.kernel.gpu(target)) {
        dispatches.push(
          await recordDispatch(gpu, plan, call.kernel, call.bind, d, buffers, scratch, owned, index),
        );
      }
    }
    return new GpuExecutor(gpu, plan, buffers, dispatches, owned);
  }

  private target(name: string): { tensor: PlannedTensor; buffer: GPUBuffer; byteOffset: number } {
    const tensor = this.plan.get(name);
    const root = tensor.view ? tensor.view.parent : name;
    const buffer = this.buffers.get(root);
    if (!buffer) throw new Error(`gpu executor: no buffer for tensor "${name}"`);
    return { tensor, buffer, byteOffset: (tensor.view?.offset ?? 0) * 4 };
  }

  write(name: string, data: ArrayLike<number>): void {
    const { tensor, buffer, byteOffset } = this.target(name);
    if (data.length !== tensor.size) {
      throw new Error(
        `write "${name}": got ${data.length} values, tensor ${formatShape(tensor.shape)} holds ${tensor.size}`,
      );
    }
    // Data already in the tensor's type goes up as it is: the features of a whole cell need no copy.
    const typed =
      tensor.dtype === 'u32'
        ? data instanceof Uint32Array ? data : Uint32Array.from(data)
        : data instanceof Float32Array ? data : Float32Array.from(data);
    this.gpu.device.queue.writeBuffer(buffer, byteOffset, typed.buffer, typed.byteOffset, typed.byteLength);
    this.stats.bytesUploaded += typed.byteLength;
  }

  async read(name: string): Promise<Float32Array | Uint32Array> {
    const { tensor, buffer, byteOffset } = this.target(name);
    const { device } = this.gpu;
    const bytes = tensor.size * 4;
    const staging = device.createBuffer({
      label: `read ${name}`,
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      await checked(this.gpu, `reading tensor "${name}"`, () => {
        const enc = device.createCommandEncoder({ label: `read ${name}` });
        enc.copyBufferToBuffer(buffer, byteOffset, staging, 0, bytes);
        device.queue.submit([enc.finish()]);
      });
      await unlessLost(this.gpu, `reading tensor "${name}"`, staging.mapAsync(GPUMapMode.READ));
      this.stats.hostReads++;
      const copy = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      return tensor.dtype === 'u32' ? new Uint32Array(copy) : new Float32Array(copy);
    } finally {
      staging.destroy();
    }
  }

  /** Records the whole plan, or one segment, `repeat` times into one pass and submits it once. */
  async run(repeat = 1, segment?: string): Promise<void> {
    await this.submit(this.segmentDispatches(segment), repeat, 'plan');
  }

  /** `run(repeat, segment)` as up to `chunks` submits, all queued before the first is awaited (the device never
   * waits on the host between them); `onDone(steps)` as the device finishes each, with the repeats done so far. */
  async runInChunks(repeat: number, segment: string | undefined, chunks: number, onDone: (done: number) => void): Promise<void> {
    const dispatches = this.segmentDispatches(segment);
    const finished: Promise<number>[] = [];
    let submitted = 0;
    try {
      for (let c = 1; c <= chunks; c++) {
        const n = Math.round((c * repeat) / chunks) - submitted;
        if (n === 0) continue;
        await this.submit(dispatches, n, 'plan');
        submitted += n;
        const upTo = submitted;
        finished.push(unlessLost(this.gpu, 'waiting for the GPU', this.gpu.device.queue.onSubmittedWorkDone()).then(() => upTo));
      }
    } catch (e) {
      // The chunks already queued may fail too (a lost device): their rejections are this one's.
      for (const p of finished) p.catch(() => {});
      throw e;
    }
    for (const [i, p] of finished.entries()) {
      try {
        onDone(await p);
      } catch (e) {
        for (const q of finished.slice(i + 1)) q.catch(() => {});
        throw e;
      }
    }
  }

  /** `run(repeat, segment)` timed: `wallMs` from submit to the queue going
   * idle on the host clock (the queue is drained first), and `gpuMs` between
   * timestamps written at the start and end of the pass when the device has
   * 'timestamp-query' (else undefined). Counts as one submit, like `run`; the
   * timestamps' readback is not a tensor read and is not counted. For
   * benchmarks: a pass of many repeats keeps the clocks' granularity small
   * against what is measured. */
  async timedRun(repeat = 1, segment?: string): Promise<{ readonly wallMs: number; readonly gpuMs: number | undefined }> {
    const { device } = this.gpu;
    const dispatches = this.segmentDispatches(segment);
    await this.finish();
    const timestamps = this.gpu.hasTimestamps
      ? await checked(this.gpu, 'creating timestamp queries', () => ({
          querySet: device.createQuerySet({ label: 'timed run', type: 'timestamp', count: 2 }),
          resolved: device.createBuffer({ label: 'timed run: resolved', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
          staging: device.createBuffer({ label: 'timed run: staging', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
        }))
      : undefined;
    try {
      const t0 = performance.now();
      await this.submit(dispatches, repeat, 'timed plan', timestamps);
      await this.finish();
      const wallMs = performance.now() - t0;
      if (!timestamps) return { wallMs, gpuMs: undefined };
      await unlessLost(this.gpu, 'reading timestamps', timestamps.staging.mapAsync(GPUMapMode.READ));
      const ticks = new BigUint64Array(timestamps.staging.getMappedRange(0, 16).slice(0));
      timestamps.staging.unmap();
      const [begin, finish] = [ticks[0] as bigint, ticks[1] as bigint];
      // A device may reset or wrap its counter between the two writes; such a pair says nothing.
      return { wallMs, gpuMs: finish > begin ? Number(finish - begin) / 1e6 : undefined };
    } finally {
      timestamps?.querySet.destroy();
      timestamps?.resolved.destroy();
      timestamps?.staging.destroy();
    }
  }

  private segmentDispatches(segment: string | undefined): RecordedDispatch[] {
    const { start, end } = this.plan.range(segment);
    return this.dispatches.filter((d) => d.call >= start && d.call < end);
  }

  /** One pass of `repeat` × `dispatches`, one submit; with `timestamps`, the
   * pass's start and end are written and copied to the staging buffer. */
  private async submit(dispatches: readonly RecordedDispatch[], repeat: number, label: string, timestamps?: PassTimestamps): Promise<void> {
    const { device } = this.gpu;
    const names = [...new Set(dispatches.map((d) => d.kernel))].join(', ');
    try {
      await checked(this.gpu, `running ${names}${timestamps ? ' (timed)' : ''}`, () => {
        const encoder = device.createCommandEncoder({ label });
        const pass = encoder.beginComputePass({
          label,
          ...(timestamps ? { timestampWrites: { querySet: timestamps.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
        });
        for (let r = 0; r < repeat; r++) for (const d of dispatches) dispatchInto(pass, d);
        pass.end();
        if (timestamps) {
          encoder.resolveQuerySet(timestamps.querySet, 0, 2, timestamps.resolved, 0);
          encoder.copyBufferToBuffer(timestamps.resolved, 0, timestamps.staging, 0, 16);
        }
        device.queue.submit([encoder.finish()]);
      });
    } catch (e) {
      if (e instanceof GpuError && !this.gpu.lostReason) await this.blame(e, dispatches);
      throw e;
    }
    this.stats.submits++;
    this.stats.dispatches += repeat * dispatches.length;
  }

  /** Runs a segment once with each dispatch in its own submit, timing each to
   * completion on the host clock. Slow (a round trip per dispatch) and only
   * for finding where time goes; the totals overstate a real run. */
  async profile(segment?: string): Promise<{ kernel: string; call: number; ms: number }[]> {
    const { device } = this.gpu;
    const out: { kernel: string; call: number; ms: number }[] = [];
    for (const d of this.segmentDispatches(segment)) {
      await this.finish();
      const t0 = performance.now();
      await checked(this.gpu, `profiling ${d.kernel}`, () => {
        const encoder = device.createCommandEncoder({ label: d.kernel });
        const pass = encoder.beginComputePass({ label: d.kernel });
        dispatchInto(pass, d);
        pass.end();
        device.queue.submit([encoder.finish()]);
      });
      await this.finish();
      out.push({ kernel: d.kernel, call: d.call, ms: performance.now() - t0 });
    }
    return out;
  }

  /** Waits until everything submitted so far has executed. */
  async finish(): Promise<void> {
    await unlessLost(this.gpu, 'waiting for the GPU', this.gpu.device.queue.onSubmittedWorkDone());
  }

  /** A pass-level error names every kernel in the pass; replaying the
   * dispatches one per scope finds the one that failed. */
  private async blame(original: GpuError, dispatches: readonly RecordedDispatch[]): Promise<void> {
    const { device } = this.gpu;
    for (const d of dispatches) {
      try {
        await checked(this.gpu, `kernel ${d.kernel}`, () => {
          const encoder = device.createCommandEncoder({ label: d.kernel });
          const pass = encoder.beginComputePass({ label: d.kernel });
          dispatchInto(pass, d);
          pass.end();
          encoder.finish();
        });
      } catch (e) {
        throw new GpuError(`${(e as Error).message}\n(while running the plan: ${original.message})`);
      }
    }
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
  }
}

interface PassTimestamps {
  readonly querySet: GPUQuerySet;
  readonly resolved: GPUBuffer;
  readonly staging: GPUBuffer;
}

function dispatchInto(pass: GPUComputePassEncoder, d: RecordedDispatch): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
}

async function recordDispatch(
  gpu: Gpu,
  plan: Plan,
  kernel: Kernel,
  bind: Readonly<Record<string, string>>,
  d: GpuDispatch,
  buffers: ReadonlyMap<string, GPUBuffer>,
  scratch: ReadonlyMap<string, GPUBuffer>,
  owned: GPUBuffer[],
  index: number,
): Promise<RecordedDispatch> {
  const { device } = gpu;
  const access: Access[] = d.bindings.map((name) => {
    const slot = kernel.slots[name];
    if (slot) return slot.access;
    if (scratch.has(name)) return 'read_write';
    throw new Error(`${kernel.name}: dispatch ${d.entryPoint} binds "${name}", which is neither a slot nor scratch`);
  });
  const limit = gpu.device.limits.maxStorageBuffersPerShaderStage;
  if (access.length > limit) {
    throw new GpuError(`${kernel.name}: dispatch ${d.entryPoint} binds ${access.length} storage buffers, the device allows ${limit}`);
  }
  for (const [i, n] of d.workgroups.entries()) {
    if (!Number.isInteger(n) || n < 1 || n > device.limits.maxComputeWorkgroupsPerDimension) {
      throw new GpuError(`${kernel.name}: dispatch ${d.entryPoint} has ${n} workgroups in dimension ${i}`);
    }
  }
  const compiled = await compileDispatch(gpu, kernel.name, d, access);
  const bindGroup = await checked(gpu, `binding ${kernel.name} (${d.entryPoint})`, () => {
    const entries: GPUBindGroupEntry[] = [];
    if (d.uniforms !== undefined) {
      const u = device.createBuffer({
        label: `${kernel.name}#${index}.uniforms`,
        size: d.uniforms.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(u, 0, d.uniforms);
      owned.push(u);
      entries.push({ binding: 0, resource: { buffer: u } });
    }
    d.bindings.forEach((name, i) => {
      const s = scratch.get(name);
      if (s && !(name in kernel.slots)) {
        entries.push({ binding: i + 1, resource: { buffer: s } });
        return;
      }
      const tensor = plan.get(bind[name] as string);
      const root = tensor.view ? tensor.view.parent : tensor.name;
      const buffer = buffers.get(root) as GPUBuffer;
      entries.push({
        binding: i + 1,
        resource: { buffer, offset: (tensor.view?.offset ?? 0) * 4, size: Math.max(4, tensor.size * 4) },
      });
    });
    return device.createBindGroup({ label: `${kernel.name}#${index}`, layout: compiled.layout, entries });
  });
  return { kernel: kernel.name, call: index, pipeline: compiled.pipeline, bindGroup, workgroups: d.workgroups };
}

export type { HostArray };
