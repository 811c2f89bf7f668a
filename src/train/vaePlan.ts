import { counterIncrementKernel } from '../kernels/counter.ts';
import { elboKernel } from '../kernels/elbo.ts';
import { gatherRowsKernel } from '../kernels/gather.ts';
import { reparamBackwardKernel, reparamForwardKernel } from '../kernels/reparam.ts';
import { storeRowsKernel } from '../kernels/storeRows.ts';
import type { SigmaParam } from '../cpu/reparam.ts';
import type { VaeModel } from '../models/vae.ts';
import { type BuildContext, backwardAll, checkChain, forwardAll } from '../nn/layer.ts';
import { Plan, VIEW_ALIGN_ELEMENTS } from '../plan/plan.ts';
import { type OptimizerConfig, appendOptimizerStep } from './optimizerStep.ts';

// The VAE as one static plan. Segments:
//   train   gather a minibatch, encode, sample z = mu + σ·eps (Philox, keyed by
//           the step counter), decode, fused ELBO (summed into report.loss),
//           backward through decoder, sampler and encoder, Adam.
//   encode  one batch of latent means into report.latents.

export interface VaePlanConfig {
  readonly genes: number;
  readonly batch: number;
  readonly encodeBatch: number;
  readonly trainOrderLength: number;
  readonly beta: number;
  /** How the encoder's second head parametrises sigma: log-variance (sigma = exp(v/2)) or softplus(s). */
  readonly sigma: SigmaParam;
  readonly optimizer: OptimizerConfig;
  readonly seed: number;
}

export const V = {
  features: 'data.x',
  trainOrder: 'train.order',
  trainCursor: 'train.cursor',
  step: 'step',
  encodeOrder: 'encode.order',
  encodeCursor: 'encode.cursor',
  report: 'report',
  reportLoss: 'report.loss',
  reportLatents: 'report.latents',
  /** [stepsPerEpoch, 1]: the running total loss after each step of the epoch, read only to find a divergent step. */
  stepLosses: 'train.stepLosses',
} as const;

export interface VaePlan {
  readonly plan: Plan;
  readonly model: VaeModel;
  readonly config: VaePlanConfig;
  readonly latentsOffset: number;
  readonly encodeCapacity: number;
}

export function buildVaePlan(model: VaeModel, config: VaePlanConfig): VaePlan {
  checkChain([...model.encoder, model.mu]);
  checkChain(model.decoder);
  const { genes, batch, encodeBatch } = config;
  const [bins, marks] = model.inputShape;
  const F = bins * marks;
  const Z = model.latent;
  const plan = new Plan();
  model.store.declare(plan);
  plan.tensor(V.features, [genes, F]);
  plan.tensor(V.trainOrder, [config.trainOrderLength], 'u32');
  plan.tensor(V.trainCursor, [1], 'u32');
  plan.tensor(V.step, [1], 'u32');
  plan.tensor(V.encodeOrder, [genes], 'u32');
  plan.tensor(V.encodeCursor, [1], 'u32');
  const encodeCapacity = Math.ceil(genes / encodeBatch) * encodeBatch;
  const latentsOffset = VIEW_ALIGN_ELEMENTS;
  plan.tensor(V.report, [latentsOffset + encodeCapacity * Z]);
  plan.view(V.reportLoss, V.report, 0, [3]);
  plan.view(V.reportLatents, V.report, latentsOffset, [encodeCapacity, Z]);
  const steps = Math.max(1, Math.ceil(config.trainOrderLength / batch));
  plan.tensor(V.stepLosses, [steps, 1]);

  const context = (prefix: string, b: number): BuildContext => ({
    plan,
    batch: b,
    training: true,
    prefix,
    step: V.step,
    seed: config.seed,
    saved: new Map(),
  });
  const gather = (ctx: BuildContext, order: string, cursor: string, indexLength: number): { flat: string; shaped: string } => {
    const flat = plan.tensor(`${ctx.prefix}x`, [ctx.batch, F]);
    plan.call(gatherRowsKernel({ rows: genes, rowSize: F, batch: ctx.batch, indexLength }), { source: V.features, order, cursor, out: flat });
    return { flat, shaped: plan.view(`${ctx.prefix}x.shaped`, flat, 0, [ctx.batch, bins, marks]) };
  };

  plan.segment('train');
  const t = context('train/', batch);
  const x = gather(t, V.trainOrder, V.trainCursor, config.trainOrderLength);
  const h = forwardAll(t, model.encoder, x.shaped);
  const mu = model.mu.forward(t, h);
  const logvar = model.logvar.forward(t, h);
  const sigma = config.sigma;
  // The kernels name the second head's slots after the parametrisation.
  const head = sigma === 'logvar' ? { p: 'logvar', d: 'dLogvar' } : { p: 's', d: 'dS' };
  const eps = plan.tensor('train/eps', [batch, Z]);
  const z = plan.tensor('train/z', [batch, Z]);
  plan.call(reparamForwardKernel({ batch, latent: Z, seed: config.seed, sigma }), { mu, [head.p]: logvar, step: V.step, eps, z });
  const recon = forwardAll(t, model.decoder, z);
  const dRecon = plan.tensor('train/dRecon', [batch, F]);
  // The ELBO writes the KL term's latent gradients; the sampler's backward adds its own onto them.
  const dMu = plan.tensor('train/dMu', [batch, Z]);
  const dLogvar = plan.tensor('train/dLogvar', [batch, Z]);
  plan.call(elboKernel({ batch, features: F, latent: Z, beta: config.beta, sigma, accumulate: true, stepLosses: steps }), {
    recon: plan.view('train/recon.flat', recon, 0, [batch, F]),
    target: x.flat,
    mu,
    [head.p]: logvar,
    loss: V.reportLoss,
    dRecon,
    dMu,
    [head.d]: dLogvar,
    cursor: V.trainCursor,
    stepLosses: V.stepLosses,
  });
  const dz = backwardAll(t, model.decoder, plan.view('train/dRecon.shaped', dRecon, 0, [batch, bins, marks]), true) as string;
  plan.call(reparamBackwardKernel({ batch, latent: Z, sigma, accumulate: true }), { dz, eps, [head.p]: logvar, dMu, [head.d]: dLogvar });
  // Both heads read h: the second head's input gradient adds onto the first's.
  const dh = model.mu.backward(t, dMu, true) as string;
  model.logvar.backward(t, dLogvar, true, dh);
  backwardAll(t, model.encoder, dh, false);
  appendOptimizerStep(plan, model.store, config.optimizer, V.step, V.trainCursor);

  plan.segment('encode');
  const e = context('encode/', encodeBatch);
  const ex = gather(e, V.encodeOrder, V.encodeCursor, genes);
  const emu = model.mu.forward(e, forwardAll(e, model.encoder, ex.shaped));
  plan.call(storeRowsKernel({ batch: encodeBatch, rowSize: Z, capacity: encodeCapacity }), {
    src: emu,
    cursor: V.encodeCursor,
    dest: V.reportLatents,
  });
  plan.call(counterIncrementKernel(), { step: V.encodeCursor });
  return { plan, model, config, latentsOffset, encodeCapacity };
}
