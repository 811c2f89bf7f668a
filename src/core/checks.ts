// Parameter checks shared by kernel factories and CPU twins.

/** Seeds are u32 keys; anything else is a caller's mistake, not something to wrap silently. */
export function requireSeed(kernel: string, seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`${kernel}: seed must be an integer in [0, 2^32), got ${seed}`);
  }
}

export type SigmaParam = 'logvar' | 'softplus';

export const SIGMA_PARAMS: readonly SigmaParam[] = ['logvar', 'softplus'];

/** Slot names of sigma's parameter and its gradient: logvar/dLogvar or s/dS. */
export function sigmaSlotNames(sigma: SigmaParam): { readonly param: string; readonly grad: string } {
  return sigma === 'logvar' ? { param: 'logvar', grad: 'dLogvar' } : { param: 's', grad: 'dS' };
}

export function requireSigmaParam(kernel: string, sigma: string): void {
  if (!(SIGMA_PARAMS as readonly string[]).includes(sigma)) {
    throw new Error(`${kernel}: sigma must be 'logvar' or 'softplus', got '${sigma}'`);
  }
}

