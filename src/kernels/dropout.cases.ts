import { uniformArray as uniform } from '../util/random.ts';
import { dropoutForwardKernel } from './dropout.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

// The mask is Philox bits compared as integers: bit for bit on both sides.
export const dropoutFamily: KernelFamily = {
  name: 'dropout',
  checks: (): KernelCheck[] => [{ kernel: dropoutForwardKernel({ n: 1001, p: 0.5, seed: 42 }), inputs: { x: uniform(1001, 21), step: [7] }, tolerance: 0 }],
};
