import type { KernelCheck, KernelFamily } from './family.ts';
import { normalKernel } from './rng.ts';

// Random draws agree exactly: their bits come from integer arithmetic on both sides.
export const rngFamily: KernelFamily = {
  name: 'rng',
  checks: (): KernelCheck[] => [{ kernel: normalKernel({ n: 1001, seed: 42 }), inputs: { step: [7] }, tolerance: 0 }],
};
