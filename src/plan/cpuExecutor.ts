import type { HostArray } from '../kernels/kernel.ts';
import { formatShape } from '../kernels/kernel.ts';
import type { Plan, PlannedTensor } from './plan.ts';

export type CpuPrecision = 'f32' | 'f64';

/** Runs a plan with the kernels' CPU twins. In 'f64' precision every f32
 * tensor is held as float64, which is what the finite-difference checks need. */
export class CpuExecutor {
  private readonly arrays = new Map<string, HostArray>();

  constructor(
    readonly plan: Plan,
    readonly precision: CpuPrecision = 'f32',
  ) {
    for (const t of plan.tensors.values()) if (!t.view) this.arrays.set(t.name, this.allocate(t));
    for (const t of plan.tensors.values()) {
      if (!t.view) continue;
      const root = this.arrays.get(t.view.parent);
      if (!root) throw new Error(`plan: view "${t.name}" has no root "${t.view.parent}"`);
      this.arrays.set(t.name, root.subarray(t.view.offset, t.view.offset + t.size));
    }
  }

  private allocate(t: PlannedTensor): HostArray {
    if (t.dtype === 'u32') return new Uint32Array(t.size);
    return this.precision === 'f64' ? new Float64Array(t.size) : new Float32Array(t.size);
  }

  /** The live array behind a tensor: writes to it are seen by the next run. */
  array(name: string): HostArray {
    const a = this.arrays.get(name);
    if (!a) throw new Error(`cpu executor: no tensor named "${name}"`);
    return a;
  }

  write(name: string, data: ArrayLike<number>): void {
    const t = this.plan.get(name);
    if (data.length !== t.size) {
      throw new Error(
        `write "${name}": got ${data.length} values, tensor ${formatShape(t.shape)} holds ${t.size}`,
      );
    }
    this.array(name).set(data);
  }

  read(name: string): HostArray {
    return this.array(name).slice();
  }

  /** Runs the whole plan, or one segment, `repeat` times. */
  run(repeat = 1, segment?: string): void {
    const { start, end } = this.plan.range(segment);
    const calls = this.plan.calls.slice(start, end).map((call) => {
      const bound: Record<string, HostArray> = {};
      for (const [slot, tensor] of Object.entries(call.bind)) bound[slot] = this.array(tensor);
      return { kernel: call.kernel, bound };
    });
    for (let r = 0; r < repeat; r++) for (const c of calls) c.kernel.cpu(c.bound);
  }
}
