import { uniformArray as uniform } from '../util/random.ts';
import { bceWithLogitsKernel } from './bce.ts';
import type { KernelCheck, KernelFamily } from './family.ts';

export const bceFamily: KernelFamily = {
  name: 'bce',
  checks: (): KernelCheck[] => [
    { kernel: bceWithLogitsKernel({ batch: 129 }), inputs: { logits: uniform(129, 18, -30, 30), targets: uniform(129, 19, 0, 1).map(Math.round) }, tolerance: 1e-4 },
  ],
};
