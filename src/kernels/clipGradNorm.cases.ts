import { uniformArray as uniform } from '../util/random.ts';
import { clipGradNormKernel } from './clipGradNorm.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

// ‖g‖₂ of n uniform values in [-1, 1] is about √(n/3): each size is checked with a limit below its norm (scaled)
// and one above it (left as it was, bit for bit).
const clipCase = (n: number, maxNorm: number, seed: number, tolerance: number): KernelCheck => ({
  kernel: clipGradNormKernel({ n, maxNorm }),
  inputs: { grads: uniform(n, seed) },
  tolerance,
});

export const clipGradNormFamily: KernelFamily = {
  name: 'clipGradNorm',
  checks: (): KernelCheck[] => [
    clipCase(1, 1e-3, 61, 1e-6),
    clipCase(1, 10, 62, 0),
    clipCase(37, 0.5, 63, 1e-6),
    clipCase(129, 100, 64, 0),
    clipCase(129, 1, 65, 1e-6),
    clipCase(100_003, 1, 66, 1e-5),
    clipCase(100_003, 1000, 67, 0),
  ],
};
