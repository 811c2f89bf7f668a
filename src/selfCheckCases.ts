import { activationBackwardKernel, activationForwardKernel } from './kernels/activation.ts';
import { adamKernel } from './kernels/adam.ts';
import { bceWithLogitsKernel } from './kernels/bce.ts';
import { conv1dBackwardWeightKernel, conv1dForwardKernel, convTranspose1dForwardKernel } from './kernels/conv1d.ts';
import { dropoutForwardKernel } from './kernels/dropout.ts';
import { elboKernel } from './kernels/elbo.ts';
import { gatherRowsKernel } from './kernels/gather.ts';
import { matmulKernel } from './kernels/matmul.ts';
import { maxPool1dForwardKernel } from './kernels/maxpool1d.ts';
import { meanSquaredErrorKernel } from './kernels/mse.ts';
import { reparamForwardKernel } from './kernels/reparam.ts';
import { sumRowsKernel } from './kernels/reduce.ts';
import { normalKernel } from './kernels/rng.ts';
import type { SelfCheckCase } from './selfCheck.ts';
import { uniformArray as uniform } from './util/random.ts';

// One small instance of every kernel family, at awkward sizes. Random draws
// (normal, dropout, reparameterisation) must agree exactly: their bits are
// computed with integer arithmetic on both sides.

export function selfCheckCases(): SelfCheckCase[] {
  const leaky = { kind: 'leaky_relu', alpha: 0.5 } as const;
  const conv = { batch: 3, length: 37, inChannels: 5, outChannels: 7, kernelSize: 5, padding: 'same' as const, bias: true, activation: leaky };
  return [
    { kernel: activationForwardKernel({ kind: 'softplus' }, [129]), inputs: { x: uniform(129, 1, -20, 20) }, tolerance: 1e-4 },
    { kernel: activationBackwardKernel(leaky, [129]), inputs: { y: uniform(129, 2), dy: uniform(129, 3) }, tolerance: 1e-4 },
    {
      kernel: matmulKernel({ M: 37, N: 129, K: 65, transA: true, bias: true, activation: { kind: 'relu' } }),
      inputs: { a: uniform(65 * 37, 4), b: uniform(65 * 129, 5), bias: uniform(129, 6) },
      tolerance: 1e-4,
    },
    { kernel: conv1dForwardKernel(conv), inputs: { x: uniform(3 * 37 * 5, 7), w: uniform(5 * 5 * 7, 8), bias: uniform(7, 9) }, tolerance: 1e-4 },
    {
      kernel: conv1dBackwardWeightKernel(conv),
      inputs: { x: uniform(3 * 37 * 5, 10), dy: uniform(3 * 37 * 7, 11), y: uniform(3 * 37 * 7, 12) },
      tolerance: 1e-4,
    },
    {
      kernel: convTranspose1dForwardKernel({ ...conv, padding: 2, activation: { kind: 'tanh' } }),
      inputs: { x: uniform(3 * 37 * 5, 13), w: uniform(5 * 7 * 5, 14), bias: uniform(7, 15) },
      tolerance: 1e-4,
    },
    { kernel: maxPool1dForwardKernel({ batch: 2, length: 91, channels: 50, pool: 5 }), inputs: { x: uniform(2 * 91 * 50, 16) }, tolerance: 0 },
    { kernel: sumRowsKernel({ rows: 6400, cols: 37 }), inputs: { x: uniform(6400 * 37, 17) }, tolerance: 1e-4 },
    { kernel: bceWithLogitsKernel({ batch: 129 }), inputs: { logits: uniform(129, 18, -30, 30), targets: uniform(129, 19, 0, 1).map(Math.round) }, tolerance: 1e-4 },
    { kernel: meanSquaredErrorKernel({ batch: 129 }), inputs: { outputs: uniform(129, 30, -1, 6), targets: uniform(129, 31, 0, 5) }, tolerance: 1e-4 },
    { kernel: gatherRowsKernel({ rows: 37, rowSize: 500, batch: 64, indexLength: 37 }), inputs: { source: uniform(37 * 500, 20), order: Array.from({ length: 37 }, (_, i) => (i * 5) % 37), cursor: [3] }, tolerance: 0 },
    { kernel: normalKernel({ n: 1001, seed: 42 }), inputs: { step: [7] }, tolerance: 0 },
    { kernel: dropoutForwardKernel({ n: 1001, p: 0.5, seed: 42 }), inputs: { x: uniform(1001, 21), step: [7] }, tolerance: 0 },
    {
      kernel: reparamForwardKernel({ batch: 37, latent: 10, seed: 42, sigma: 'logvar' }),
      inputs: { mu: uniform(370, 22), logvar: uniform(370, 23), step: [7] },
      tolerance: 1e-4,
    },
    {
      kernel: elboKernel({ batch: 37, features: 500, latent: 10, beta: 0.1, sigma: 'logvar' }),
      inputs: { recon: uniform(37 * 500, 24), target: uniform(37 * 500, 25), mu: uniform(370, 26), logvar: uniform(370, 27) },
      tolerance: 1e-4,
    },
    {
      kernel: adamKernel({ n: 1001, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true }),
      inputs: { params: uniform(1001, 28), grads: uniform(1001, 29), m: uniform(1001, 30), v: uniform(1001, 31, 0, 1), step: [3] },
      tolerance: 1e-4,
    },
  ];
}
