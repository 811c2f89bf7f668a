import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { labelConcatBackwardKernel, labelConcatKernel } from './labelConcat.ts';

const labels = (n: number, seed: number): Float32Array => uniform(n, seed, 0, 1).map(Math.round);

export const labelConcatFamily: KernelFamily = {
  name: 'labelConcat',
  checks: (): KernelCheck[] => [
    { kernel: labelConcatKernel({ labeled: 37, unlabeled: 129, width: 37, tiled: true }), inputs: { input: uniform(166 * 37, 1, -2, 2), y: labels(37, 2) }, tolerance: 0 },
    { kernel: labelConcatKernel({ labeled: 37, unlabeled: 1, width: 37, tiled: false }), inputs: { input: uniform(39 * 37, 3, -2, 2), y: labels(37, 4) }, tolerance: 0 },
    { kernel: labelConcatBackwardKernel({ labeled: 37, unlabeled: 129, width: 37, tiled: true }), inputs: { dOutput: uniform(295 * 39, 5, -1, 1) }, tolerance: 1e-6 },
  ],
};
