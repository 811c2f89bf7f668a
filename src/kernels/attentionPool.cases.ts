import type { AttentionPoolSizes } from '../cpu/attentionPool.ts';
import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { attentionPoolBackwardKernel, attentionPoolContextGradKernel, attentionPoolForwardKernel } from './attentionPool.ts';

// Awkward sizes: a sequence of one, a long one with padding, a width past a workgroup.
const SIZES: readonly AttentionPoolSizes[] = [
  { batch: 37, length: 1, groups: 3, width: 5 },
  { batch: 2, length: 129, groups: 5, width: 37, valid: 100 },
  { batch: 1, length: 37, groups: 1, width: 129 },
];

function checksAt(s: AttentionPoolSizes, seed: number): KernelCheck[] {
  const h = uniform(s.batch * s.length * s.groups * s.width, seed, -2, 2);
  const context = uniform(s.groups * s.width, seed + 1, -1, 1);
  const weights = s.batch * s.groups * s.length;
  return [
    { kernel: attentionPoolForwardKernel(s), inputs: { h, context }, tolerance: 1e-5 },
    {
      kernel: attentionPoolBackwardKernel(s),
      inputs: { dpooled: uniform(s.batch * s.groups * s.width, seed + 2), h, context, alpha: uniform(weights, seed + 3, 0, 1) },
      tolerance: 1e-5,
    },
    { kernel: attentionPoolContextGradKernel(s), inputs: { h, dscore: uniform(weights, seed + 4) }, tolerance: 1e-5 },
  ];
}

export const attentionPoolFamily: KernelFamily = {
  name: 'attentionPool',
  checks: (): KernelCheck[] => SIZES.flatMap((s, i) => checksAt(s, 200 + 10 * i)),
};
