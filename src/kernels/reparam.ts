import { type SigmaParam, requireSeed, requireSigmaParam, sigmaSlotNames } from '../core/checks.ts';
import { reparamBackward, reparamForward } from '../cpu/reparam.ts';
import { type FloatArray, type Kernel, f32Slot, grid1d, requirePositiveInts, u32Slot, uniformBlock } from './kernel.ts';
import { MAX_RANDOM_ELEMENTS } from './rng.ts';

export interface ReparamParams {
  readonly batch: number;
  readonly latent: number;
  readonly seed: number;
  /** 'logvar': sigma = exp(logvar / 2), slot `logvar`; 'softplus': sigma = softplus(s), slot `s`. */
  readonly sigma: SigmaParam;
}

/** Sampling does ~2k integer operations per invocation (a block of four normals). */
const SAMPLE_WG = 64;
const ELEMENTWISE_WG = 256;

/** The backward pass takes the forward pass's parameters; the seed, if given, is unused. */
export type ReparamBackwardParams = Omit<ReparamParams, 'seed'> & {
  readonly seed?: number;
  /** Add to dMu and the sigma parameter's gradient (the KL term's, written before) instead of overwriting them. */
  readonly accumulate?: boolean;
};

function validate(kernel: string, p: Pick<ReparamParams, 'batch' | 'latent' | 'sigma'>): void {
  requirePositiveInts(kernel, { batch: p.batch, latent: p.latent });
  requireSigmaParam(kernel, p.sigma);
  if (p.batch * p.latent > MAX_RANDOM_ELEMENTS) {
    throw new Error(`${kernel}: batch·latent must be at most 2^30, got ${p.batch * p.latent}`);
  }
}

/**
 * z = mu + sigma·eps, all [batch, latent] row-major. Slots: mu, logvar (or s),
 * step ([1] u32, read on the GPU), eps (written, kept for the backward pass),
 * z (written). eps[b·latent + j] is normalKernel's element b·latent + j at
 * (seed, step): the same bits on GPU and CPU.
 */
export function reparamForwardKernel(p: ReparamParams): Kernel {
  const name = `reparam.forward[${p.sigma}]`;
  validate(name, p);
  requireSeed(name, p.seed);
  const { seed, sigma } = p;
  const shape = [p.batch, p.latent];
  const n = p.batch * p.latent;
  const param = sigmaSlotNames(sigma).param;
  return {
    name,
    slots: {
      mu: f32Slot(shape, 'read'),
      [param]: f32Slot(shape, 'read'),
      step: u32Slot([1], 'read'),
      eps: f32Slot(shape, 'read_write'),
      z: f32Slot(shape, 'read_write'),
    },
    cpu: (t) =>
      reparamForward(
        seed,
        sigma,
        (t.step as Uint32Array)[0] as number,
        t.mu as FloatArray,
        t[param] as FloatArray,
        t.eps as FloatArray,
        t.z as FloatArray,
      ),
    gpu: () => [
      {
        shader: 'reparam',
        entryPoint: 'forward',
        defines: { FORWARD: true, SOFTPLUS: sigma === 'softplus' },
        constants: { WG: SAMPLE_WG },
        bindings: ['mu', param, 'step', 'eps', 'z'],
        uniforms: uniformBlock([
          ['u32', n],
          ['u32', seed],
        ]),
        workgroups: grid1d(Math.ceil(n / 4), SAMPLE_WG),
      },
    ],
  };
}

/**
 * The backward pass of reparamForwardKernel, holding eps fixed. Slots: dz,
 * eps, logvar (or s), all read; dMu = dz and dLogvar = dz·eps·exp(logvar/2)/2
 * (or dS = dz·eps·sigmoid(s)), written. All [batch, latent]. The seed is not
 * needed: eps comes from the forward pass.
 */
export function reparamBackwardKernel(p: ReparamBackwardParams): Kernel {
  const accumulate = p.accumulate === true;
  const name = `reparam.backward[${p.sigma}${accumulate ? ',+=' : ''}]`;
  validate(name, p);
  const { sigma } = p;
  const shape = [p.batch, p.latent];
  const n = p.batch * p.latent;
  const { param, grad } = sigmaSlotNames(sigma);
  return {
    name,
    slots: {
      dz: f32Slot(shape, 'read'),
      eps: f32Slot(shape, 'read'),
      [param]: f32Slot(shape, 'read'),
      dMu: f32Slot(shape, 'read_write'),
      [grad]: f32Slot(shape, 'read_write'),
    },
    cpu: (t) =>
      reparamBackward(
        sigma,
        t.dz as FloatArray,
        t.eps as FloatArray,
        t[param] as FloatArray,
        t.dMu as FloatArray,
        t[grad] as FloatArray,
        accumulate,
      ),
    gpu: () => [
      {
        shader: 'reparam',
        entryPoint: 'backward',
        defines: { SOFTPLUS: sigma === 'softplus', ACCUMULATE: accumulate },
        constants: { WG: ELEMENTWISE_WG },
        bindings: ['dz', 'eps', param, 'dMu', grad],
        uniforms: uniformBlock([['u32', n]]),
        workgroups: grid1d(n, ELEMENTWISE_WG),
      },
    ],
  };
}
