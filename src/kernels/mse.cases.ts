import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { meanSquaredErrorKernel } from './mse.ts';

export const mseFamily: KernelFamily = {
  name: 'mse',
  checks: (): KernelCheck[] => [{ kernel: meanSquaredErrorKernel({ batch: 129 }), inputs: { outputs: uniform(129, 30, -1, 6), targets: uniform(129, 31, 0, 5) }, tolerance: 1e-4 }],
};
