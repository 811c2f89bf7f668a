import type { Gpu } from '../gpu/device.ts';
import type { KernelCheck, KernelFamily } from '../kernels/family.ts';
import { KERNEL_FAMILIES } from '../kernels/families.ts';
import { maxRelError, runOnBoth } from './singleKernel.ts';

// A quick proof, on the user's own adapter, that each kernel family computes
// what its CPU twin computes: every family's checks (src/kernels/*.cases.ts),
// outputs poisoned with NaN first. It lives beside runOnBoth because it is
// that, run over the families list; `run.ts --self-check` shows it before
// anything is trained, and test/kernelFamilies.test.ts runs the same checks.

export interface SelfCheckResult {
  readonly family: string;
  readonly kernel: string;
  readonly error: number;
  readonly ok: boolean;
}

/** Runs one check; its error is the worst maxRelError over the kernel's written slots. */
export async function runCheck(gpu: Gpu, check: KernelCheck): Promise<{ readonly error: number; readonly ok: boolean }> {
  const both = await runOnBoth(gpu, check.kernel, check.inputs);
  let error = 0;
  for (const [slot, spec] of Object.entries(check.kernel.slots)) {
    if (spec.access !== 'read_write') continue;
    error = Math.max(error, maxRelError(both.gpu[slot] as ArrayLike<number>, both.cpu[slot] as ArrayLike<number>));
  }
  return { error, ok: error <= check.tolerance };
}

export async function selfCheck(gpu: Gpu, families: readonly KernelFamily<unknown>[] = KERNEL_FAMILIES): Promise<SelfCheckResult[]> {
  const results: SelfCheckResult[] = [];
  for (const family of families) {
    for (const check of family.checks()) {
      results.push({ family: family.name, kernel: check.kernel.name, ...(await runCheck(gpu, check)) });
    }
  }
  return results;
}
