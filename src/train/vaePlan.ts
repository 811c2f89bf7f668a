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

/** The encoder's forward in a training build: both heads of h. */
export function encodeForTraining(t: BuildContext, model: VaeModel, shaped: string): { mu: string; logvar: string } {
  const h = forwardAll(t, model.encoder, shaped);
  return { mu: model.mu.forward(t, h), logvar: model.logvar.forward(t, h) };
}

export interface ElboTerm {
  readonly beta: number;
  readonly sigma: SigmaParam;
  /** [3] that each step's (total, MSE, KL) is added into. */
  readonly loss: string;
  /** Scales the ELBO's gradients (a term of a larger loss); default 1. */
  readonly gradientWeight?: number;
  readonly stepLosses?: { readonly cursor: string; readonly rows: string; readonly count: number };
}

/** Sample z = mu + σ·eps (Philox, keyed by the step counter), decode, fused ELBO against `target` [batch, F],
 * and back through the decoder and the sampler: the latent gradients, to which more may be added before
 * encoderBackward. The ELBO writes the KL term's latent gradients; the sampler's backward adds its own onto them. */
export function elboThroughDecoder(
  t: BuildContext,
  model: VaeModel,
  target: string,
  enc: { readonly mu: string; readonly logvar: string },
  term: ElboTerm,
): { dMu: string; dLogvar: string } {
  const { plan, batch } = t;
  const [bins, marks] = model.inputShape;
  const F = bins * marks;
  const Z = model.latent;
  const { sigma } = term;
  // The kernels name the second head's slots after the parametrisation.
  const head = sigma === 'logvar' ? { p: 'logvar', d: 'dLogvar' } : { p: 's', d: 'dS' };
  const eps = plan.tensor(`${t.prefix}eps`, [batch, Z]);
  const z = plan.tensor(`${t.prefix}z`, [batch, Z]);
  plan.call(reparamForwardKernel({ batch, latent: Z, seed: t.seed, sigma }), { mu: enc.mu, [head.p]: enc.logvar, step: t.step, eps, z });
  const recon = forwardAll(t, model.decoder, z);
  const dRecon = plan.tensor(`${t.prefix}dRecon`, [batch, F]);
  const dMu = plan.tensor(`${t.prefix}dMu`, [batch, Z]);
  const dLogvar = plan.tensor(`${t.prefix}dLogvar`, [batch, Z]);
  const steps = term.stepLosses;
  plan.call(
    elboKernel({
      batch,
      features: F,
      latent: Z,
      beta: term.beta,
      sigma,
      accumulate: true,
      ...(term.gradientWeight !== undefined ? { gradientWeight: term.gradientWeight } : {}),
      ...(steps ? { stepLosses: steps.count } : {}),
    }),
    {
      recon: plan.view(`${t.prefix}recon.flat`, recon, 0, [batch, F]),
      target,
      mu: enc.mu,
      [head.p]: enc.logvar,
      loss: term.loss,
      dRecon,
      dMu,
      [head.d]: dLogvar,
      ...(steps ? { cursor: steps.cursor, stepLosses: steps.rows } : {}),
    },
  );
  const dz = backwardAll(t, model.decoder, plan.view(`${t.prefix}dRecon.shaped`, dRecon, 0, [batch, bins, marks]), true) as string;
  plan.call(reparamBackwardKernel({ batch, latent: Z, sigma, accumulate: true }), { dz, eps, [head.p]: enc.logvar, dMu, [head.d]: dLogvar });
  return { dMu, dLogvar };
}

/** Back through both heads and the encoder; the parameter gradients are written, not added. */
export function encoderBackward(t: BuildContext, model: VaeModel, g: { readonly dMu: string; readonly dLogvar: string }): void {
  // Both heads read h: the second head's input gradient adds onto the first's.
  const dh = model.mu.backward(t, g.dMu, true) as string;
  model.logvar.backward(t, g.dLogvar, true, dh);
  backwardAll(t, model.encoder, dh, false);
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
  const enc = encodeForTraining(t, model, x.shaped);
  const grads = elboThroughDecoder(t, model, x.flat, enc, {
    beta: config.beta,
    sigma: config.sigma,
    loss: V.reportLoss,
    stepLosses: { cursor: V.trainCursor, rows: V.stepLosses, count: steps },
  });
  encoderBackward(t, model, grads);
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
