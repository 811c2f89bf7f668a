import { uniformArray as uniform } from '../util/random.ts';
import { type ElboParams, elboKernel } from './elbo.ts';
import { type BenchSizes, type KernelBenchCase, type KernelCheck, type KernelFamily, mega, randomReadInputs } from './family.ts';

export interface ElboBenchOp {
  readonly kind: 'elbo';
  readonly params: ElboParams;
}

const F32 = 4;

/** The VAE's ELBO and its three gradients at the real data's width (500) and latent (10). */
function elboBenchCases({ batch }: BenchSizes): KernelBenchCase<ElboBenchOp>[] {
  const params: ElboParams = { batch, features: 500, latent: 10, beta: 1, sigma: 'logvar' };
  const BD = batch * params.features;
  const BZ = batch * params.latent;
  // Per reconstruction element: sub, square, add to the sum, scale for the gradient;
  // per latent element: exp, square and a handful of adds for KL and its two gradients.
  const flops = 4 * BD + 10 * BZ;
  const bytes = F32 * (3 * BD + 4 * BZ + 3);
  return [
    {
      name: 'vae ELBO + gradients',
      shape: `B${batch} D${params.features} Z${params.latent} (loss + dRecon, dMu, dLogvar)`,
      flops,
      bytes,
      bound: 'memory',
      napkin: `reads recon, target, mu, logvar, writes 3 gradients: 4·(3·B·D + 4·B·Z) = ${mega(bytes)}B`,
      build: () => {
        const kernel = elboKernel(params);
        return { kernel, inputs: randomReadInputs(kernel, 61) };
      },
      output: 'dRecon',
      op: { kind: 'elbo', params },
    },
  ];
}

export const elboFamily: KernelFamily<ElboBenchOp> = {
  name: 'elbo',
  checks: (): KernelCheck[] => [
    {
      kernel: elboKernel({ batch: 37, features: 500, latent: 10, beta: 0.1, sigma: 'logvar' }),
      inputs: { recon: uniform(37 * 500, 24), target: uniform(37 * 500, 25), mu: uniform(370, 26), logvar: uniform(370, 27) },
      tolerance: 1e-4,
    },
  ],
  bench: elboBenchCases,
};
