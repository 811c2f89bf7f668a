import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { sumRowsKernel } from './reduce.ts';

export const reduceFamily: KernelFamily = {
  name: 'reduce',
  checks: (): KernelCheck[] => [{ kernel: sumRowsKernel({ rows: 6400, cols: 37 }), inputs: { x: uniform(6400 * 37, 17) }, tolerance: 1e-4 }],
};
