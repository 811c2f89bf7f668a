import { uniformArray as uniform } from '../util/random.ts';
import { type AdamOptions, adamKernel } from './adam.ts';
import { type BenchSizes, type KernelBenchCase, type KernelCheck, type KernelFamily, mega } from './family.ts';

export interface AdamBenchOp {
  readonly kind: 'adam';
  readonly params: AdamOptions;
}

const F32 = 4;

/** One step over the VAE's flat parameter buffer (padding included, as our Adam sees it), from zero moments. */
function adamBenchCases({ vaeParameters: n }: BenchSizes): KernelBenchCase<AdamBenchOp>[] {
  const params: AdamOptions = { n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
  // Reads params, grads, m, v; writes params, m, v.
  const bytes = F32 * 7 * n;
  const flops = 12 * n;
  return [
    {
      name: 'adam over the VAE',
      shape: `n = ${n.toLocaleString('en-US')}`,
      flops,
      bytes,
      bound: 'memory',
      napkin: `reads p, g, m, v, writes p, m, v: 28·n = ${mega(bytes)}B`,
      build: () => ({
        kernel: adamKernel(params),
        inputs: { params: uniform(n, 71), grads: uniform(n, 72), m: new Float32Array(n), v: new Float32Array(n), step: Uint32Array.of(1) },
      }),
      output: 'params',
      op: { kind: 'adam', params },
    },
  ];
}

export const adamFamily: KernelFamily<AdamBenchOp> = {
  name: 'adam',
  checks: (): KernelCheck[] => [
    {
      kernel: adamKernel({ n: 1001, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true }),
      inputs: { params: uniform(1001, 28), grads: uniform(1001, 29), m: uniform(1001, 30), v: uniform(1001, 31, 0, 1), step: [3] },
      tolerance: 1e-4,
    },
  ],
  bench: adamBenchCases,
};
