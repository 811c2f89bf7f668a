import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { type M2LossParams, m2LossKernel } from './m2Loss.ts';

const P: M2LossParams = {
  labeled: 37,
  unlabeled: 129,
  features: 37,
  latent: 10,
  reconWeight: 1.5,
  klWeight: 0.75,
  labeledWeight: 0.3,
  classWeight: 2,
  unlabeledWeight: 0.6,
  accumulate: true,
  stepLosses: 3,
};

export const m2LossFamily: KernelFamily = {
  name: 'm2Loss',
  checks: (): KernelCheck[] => {
    const N = P.labeled + 2 * P.unlabeled;
    const R = P.labeled + P.unlabeled;
    return [
      {
        kernel: m2LossKernel(P),
        inputs: {
          recon: uniform(N * P.features, 1, -1, 1),
          x: uniform(R * P.features, 2, -1, 1),
          mu: uniform(N * P.latent, 3, -2, 2),
          logvar: uniform(N * P.latent, 4, -3, 2),
          logits: uniform(R, 5, -4, 4),
          y: uniform(P.labeled, 6, 0, 1).map(Math.round),
          loss: [0.5],
          cursor: [1],
          stepLosses: [9, 9, 9],
        },
        tolerance: 1e-4,
      },
    ];
  },
};
