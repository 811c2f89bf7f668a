import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { reparamForwardKernel } from './reparam.ts';

export const reparamFamily: KernelFamily = {
  name: 'reparam',
  checks: (): KernelCheck[] => [
    {
      kernel: reparamForwardKernel({ batch: 37, latent: 10, seed: 42, sigma: 'logvar' }),
      inputs: { mu: uniform(370, 22), logvar: uniform(370, 23), step: [7] },
      tolerance: 1e-4,
    },
  ],
};
