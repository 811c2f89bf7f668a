import { elbo } from '../cpu/elbo.ts';
import { type SigmaParam, requireSigmaParam, sigmaSlotNames } from '../core/checks.ts';
import { type FloatArray, type GpuDispatch, type Kernel, f32Slot, grid1d, u32Slot, requirePositiveInts, uniformBlock } from './kernel.ts';

const WG = 256;
/** Elements per invocation of the gradient pass (shaders/elbo.wgsl ITEMS). */
const ITEMS = 4;

export interface ElboParams {
  readonly batch: number;
  /** D: reconstruction width. */
  readonly features: number;
  /** Z: latent width. */
  readonly latent: number;
  /** Weight of the KL term, ≥ 0. */
  readonly beta: number;
  /** 'logvar': slots logvar/dLogvar; 'softplus': sigma = softplus(s), slots s/dS. */
  readonly sigma: SigmaParam;
  /** Add to loss instead of overwriting it, to sum per-step losses over an epoch on the GPU. */
  readonly accumulate?: boolean;
  /** Rows of a stepLosses [rows, 1] slot that receives loss[0] after this step at row
   * cursor[0] (slot cursor, u32 [1]) when the row exists: an epoch's per-step record. */
  readonly stepLosses?: number;
  /** Multiplies every gradient (not the loss slots): the ELBO as one weighted term of a larger loss. Default 1. */
  readonly gradientWeight?: number;
}

/** Up to this many elements one workgroup does the whole loss in one dispatch. */
const SINGLE_PASS_ELEMENTS = 1 << 20;

/**
 * The VAE loss and all its gradients in one pass.
 *   loss = MSE + beta·KL,  MSE = Σ (recon - target)² / (B·D),
 *   KL = Σ_b Σ_j -½(1 + ln σ² - μ² - σ²) / B,  σ² = exp(logvar) or σ = softplus(s).
 * Slots (row-major): recon [B,D], target [B,D], mu [B,Z], logvar or s [B,Z]
 * (read); loss [3] = (total, MSE, KL unweighted by beta), written, or added to
 * with `accumulate`; dRecon [B,D] = 2(recon - target)/(B·D), dMu [B,Z] =
 * beta·mu/B, dLogvar [B,Z] = beta·½(exp(logvar) - 1)/B or dS [B,Z] =
 * (beta/B)(σ - 1/σ)·sigmoid(s) (written), each times gradientWeight.
 * GPU: up to a million elements, one workgroup writes every gradient and the
 * loss in one dispatch; beyond, one dispatch writes the gradients and
 * per-workgroup partial sums and a second folds them in a fixed order. Both
 * are deterministic.
 */
export function elboKernel(p: ElboParams): Kernel {
  const accumulate = p.accumulate === true;
  const weight = p.gradientWeight ?? 1;
  const name = `elbo[${p.sigma}${accumulate ? ',+=' : ''}${weight !== 1 ? `,×${weight}` : ''}]`;
  requirePositiveInts(name, { batch: p.batch, features: p.features, latent: p.latent });
  requireSigmaParam(name, p.sigma);
  if (!(Number.isFinite(p.beta) && p.beta >= 0)) throw new Error(`${name}: beta must be finite and ≥ 0, got ${p.beta}`);
  if (!(Number.isFinite(weight) && weight >= 0)) throw new Error(`${name}: gradientWeight must be finite and ≥ 0, got ${weight}`);
  const { batch, features, latent, beta, sigma } = p;
  const reconN = batch * features;
  const latentN = batch * latent;
  if (reconN + latentN > 2 ** 31) {
    throw new Error(`${name}: batch·(features + latent) must be at most 2^31, got ${reconN + latentN}`);
  }
  const stepRows = p.stepLosses;
  if (stepRows !== undefined) requirePositiveInts(name, { stepLosses: stepRows });
  const single = reconN + latentN <= SINGLE_PASS_ELEMENTS;
  const items = single ? Math.ceil((reconN + latentN) / WG) : ITEMS;
  const numPartials = single ? 1 : Math.ceil((reconN + latentN) / (WG * ITEMS));
  const { param, grad } = sigmaSlotNames(sigma);
  const reconShape = [batch, features];
  const latentShape = [batch, latent];
  const uniforms = uniformBlock([
    ['u32', reconN],
    ['u32', latentN],
    ['u32', numPartials],
    ['f32', (weight * 2) / reconN],
    ['f32', (weight * beta) / batch],
    ['f32', 1 / reconN],
    ['f32', 1 / batch],
    ['f32', beta],
    ['u32', stepRows ?? 0],
  ]);
  const steps = stepRows !== undefined;
  const stepSlots = steps ? ['cursor', 'stepLosses'] : [];
  const gradients = ['recon', 'target', 'mu', param, 'dRecon', 'dMu', grad];
  return {
    name,
    slots: {
      recon: f32Slot(reconShape, 'read'),
      target: f32Slot(reconShape, 'read'),
      mu: f32Slot(latentShape, 'read'),
      [param]: f32Slot(latentShape, 'read'),
      loss: f32Slot([3], 'read_write'),
      dRecon: f32Slot(reconShape, 'read_write'),
      dMu: f32Slot(latentShape, 'read_write'),
      [grad]: f32Slot(latentShape, 'read_write'),
      ...(steps ? { cursor: u32Slot([1], 'read'), stepLosses: f32Slot([stepRows, 1], 'read_write') } : {}),
    },
    ...(single ? {} : { scratch: { partials: { shape: [numPartials, 2], dtype: 'f32' as const } } }),
    cpu: (t) =>
      elbo(
        { batch, beta, sigma, accumulate, gradientWeight: weight },
        t.recon as FloatArray,
        t.target as FloatArray,
        t.mu as FloatArray,
        t[param] as FloatArray,
        t.loss as FloatArray,
        t.dRecon as FloatArray,
        t.dMu as FloatArray,
        t[grad] as FloatArray,
        steps ? { cursor: t.cursor as Uint32Array, rows: t.stepLosses as FloatArray } : undefined,
      ),
    gpu: (): readonly GpuDispatch[] =>
      single
        ? [
            {
              shader: 'elbo',
              entryPoint: 'gradients',
              defines: { SOFTPLUS: sigma === 'softplus', SINGLE_PASS: true, WRITES_LOSS: true, ACCUMULATE: accumulate, STEP_LOSSES: steps },
              constants: { WG, ITEMS: items },
              bindings: [...gradients, 'loss', ...stepSlots],
              uniforms,
              workgroups: [1, 1, 1],
            },
          ]
        : [
            {
              shader: 'elbo',
              entryPoint: 'gradients',
              defines: { SOFTPLUS: sigma === 'softplus' },
              constants: { WG, ITEMS },
              bindings: [...gradients, 'partials'],
              uniforms,
              workgroups: grid1d(numPartials * WG, WG),
            },
            {
              shader: 'elbo',
              entryPoint: 'finalize',
              defines: { FINALIZE: true, WRITES_LOSS: true, ACCUMULATE: accumulate, STEP_LOSSES: steps },
              constants: { WG },
              bindings: ['partials', 'loss', ...stepSlots],
              uniforms,
              workgroups: [1, 1, 1],
            },
          ],
  };
}
