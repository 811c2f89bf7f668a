import type { Gpu } from './gpu/device.ts';
import type { Kernel } from './kernels/kernel.ts';
import { maxRelError, runOnBoth } from './plan/singleKernel.ts';

// A quick proof, on the user's own adapter, that each kernel family computes
// what its CPU twin computes: one small random instance each, outputs
// poisoned with NaN first. The test suite does this thoroughly; this is what
// `run.ts` shows before anything is trained.

export interface SelfCheckCase {
  readonly kernel: Kernel;
  /** Inputs by slot; every other slot is poisoned. */
  readonly inputs: Readonly<Record<string, ArrayLike<number>>>;
  /** Bound on maxRelError over the kernel's written slots. */
  readonly tolerance: number;
}

export interface SelfCheckResult {
  readonly kernel: string;
  readonly error: number;
  readonly ok: boolean;
}

export async function selfCheck(gpu: Gpu, cases: readonly SelfCheckCase[]): Promise<SelfCheckResult[]> {
  const results: SelfCheckResult[] = [];
  for (const c of cases) {
    const both = await runOnBoth(gpu, c.kernel, c.inputs);
    let error = 0;
    for (const [slot, spec] of Object.entries(c.kernel.slots)) {
      if (spec.access !== 'read_write') continue;
      error = Math.max(error, maxRelError(both.gpu[slot] as ArrayLike<number>, both.cpu[slot] as ArrayLike<number>));
    }
    results.push({ kernel: c.kernel.name, error, ok: error <= c.tolerance });
  }
  return results;
}
