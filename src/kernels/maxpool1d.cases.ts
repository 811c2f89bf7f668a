import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { maxPool1dForwardKernel } from './maxpool1d.ts';

export const maxpool1dFamily: KernelFamily = {
  name: 'maxpool1d',
  checks: (): KernelCheck[] => [{ kernel: maxPool1dForwardKernel({ batch: 2, length: 91, channels: 50, pool: 5 }), inputs: { x: uniform(2 * 91 * 50, 16) }, tolerance: 0 }],
};
