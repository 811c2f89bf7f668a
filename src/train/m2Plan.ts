import { elementCount } from '../kernels/kernel.ts';
import { gatherRowsKernel, gatherValuesKernel } from '../kernels/gather.ts';
import { labelConcatBackwardKernel, labelConcatKernel } from '../kernels/labelConcat.ts';
import { m2LossKernel } from '../kernels/m2Loss.ts';
import { reparamBackwardKernel, reparamForwardKernel } from '../kernels/reparam.ts';
import { M2_CLASSES, type M2Model } from '../models/vaeM2.ts';
import { backwardAll, checkChain, forwardAll } from '../nn/layer.ts';
import type { Executor } from '../plan/executor.ts';
import { Plan } from '../plan/plan.ts';
import { epochOrder, seededRandom } from '../util/random.ts';
import { type ClassifierPlan, type ClassifierPlanConfig, T, appendPredictSegments, classifierContext, declareClassifierTensors } from './classifierPlan.ts';
import { appendOptimizerStep } from './optimizerStep.ts';

// Kingma et al.'s M2 (src/models/vaeM2.ts) as one static plan with the
// classifier plan's tensors and segments, so the classifier's epoch loop,
// checkpoints and predict run it unchanged; only `train` differs. One step:
//   gather B labeled genes then U unlabeled ones (m2.order) and the B labels
//   the shared trunk on those B + U genes; q(y|x)'s logits from it
//   label_concat: B rows with their labels, the U genes as y = 0, as y = 1
//   q(z|x,y) heads, z = mu + σ·eps, p(x|z,y) decoder on the same B + 2U rows
//   m2_loss: every row's −ELBO, weighted (the labeled by 1, the unlabeled by
//   q(y|x)), minus the entropy of q, plus α·BCE on the labeled genes
//   backward into the decoder, heads, classifier head and trunk; Adam.
// An epoch is one pass over the unlabeled genes; the labeled ones are cycled.

export const M2 = {
  /** [steps·(B + U)] u32: per step, that step's B labeled genes (train.order's), then U unlabeled genes. */
  order: 'm2.order',
} as const;

/** The loss's weights per step (see src/cpu/m2Loss.ts). */
export interface M2Weights {
  readonly reconWeight: number;
  readonly klWeight: number;
  readonly labeledWeight: number;
  readonly classWeight: number;
  readonly unlabeledWeight: number;
}

export interface M2PlanConfig extends ClassifierPlanConfig {
  /** U: unlabeled genes per step (B, the labeled ones, is `batch`). */
  readonly unlabeledBatch: number;
  readonly steps: number;
  readonly weights: M2Weights;
}

export interface M2Plan extends ClassifierPlan {
  readonly config: M2PlanConfig;
}

export interface M2Objective {
  readonly labeledGenes: number;
  readonly unlabeledGenes: number;
  readonly labeledBatch: number;
  readonly unlabeledBatch: number;
  /** Reconstruction width D = bins·marks. */
  readonly features: number;
  /** The VAE's KL weight: −ELBO per gene is (mean squared error + β·KL)/β, a Gaussian likelihood of variance D·β/2. */
  readonly beta: number;
  /** Kingma's α, the weight of the labeled genes' mean classification loss; default 0.1·(labeled + unlabeled). */
  readonly alpha?: number;
}

/** The step's weights that make its loss an unbiased estimate of J^α / N (Kingma et al. 2014, eq. 9), N every gene:
 * J^α = Σ_labeled L(x, y) + Σ_unlabeled U(x) + α·mean_labeled[−log q(y|x)]. */
export function m2Weights(o: M2Objective): M2Weights {
  if (!(o.beta > 0)) throw new Error(`vae-m2: --beta must be above 0 (it sets the likelihood's variance), got ${o.beta}`);
  const N = o.labeledGenes + o.unlabeledGenes;
  const alpha = o.alpha ?? 0.1 * N;
  return {
    reconWeight: 1 / (o.features * o.beta),
    klWeight: 1,
    labeledWeight: o.labeledGenes / (N * o.labeledBatch),
    classWeight: alpha / (N * o.labeledBatch),
    unlabeledWeight: o.unlabeledGenes / (N * o.unlabeledBatch),
  };
}

export function buildM2Plan(model: M2Model, config: M2PlanConfig): M2Plan {
  const { vae } = model;
  checkChain(model.layers);
  checkChain(vae.decoder);
  const { genes, batch: B, unlabeledBatch: U, steps } = config;
  if (config.trainOrderLength !== steps * B) throw new Error(`vae-m2: the labeled order must be steps·B = ${steps * B} long, got ${config.trainOrderLength}`);
  const [bins, marks] = model.inputShape as [number, number];
  const F = bins * marks;
  const Z = vae.latent;
  const R = B + U;
  const N = B + 2 * U;
  const plan = new Plan();
  const { predictCapacity, logitsOffset } = declareClassifierTensors(plan, model, config);
  plan.tensor(M2.order, [steps * R], 'u32');

  plan.segment('train');
  // Genes (B + U) and rows (B + 2U) are two batch sizes, so two build contexts.
  const g = classifierContext(plan, config, 'train/', R, true);
  const r = classifierContext(plan, config, 'train/rows/', N, true);
  const x = plan.tensor('train/x', [R, F]);
  plan.call(gatherRowsKernel({ rows: genes, rowSize: F, batch: R, indexLength: steps * R }), { source: T.features, order: M2.order, cursor: T.trainCursor, out: x });
  const y = plan.tensor('train/y', [B]);
  plan.call(gatherValuesKernel({ rows: genes, batch: B, indexLength: config.trainOrderLength }), { source: T.labels, order: T.trainOrder, cursor: T.trainCursor, out: y });
  const h = forwardAll(g, vae.encoder, plan.view('train/x.shaped', x, 0, [R, bins, marks]));
  const logits = forwardAll(g, model.head, h);
  const H = elementCount(vae.mu.inputShape) - M2_CLASSES;
  const conditioned = { labeled: B, unlabeled: U };
  const hy = plan.tensor('train/rows/hy', [N, H + M2_CLASSES]);
  plan.call(labelConcatKernel({ ...conditioned, width: H, tiled: true }), { input: h, y, output: hy });
  const mu = vae.mu.forward(r, hy);
  const logvar = vae.logvar.forward(r, hy);
  const eps = plan.tensor('train/rows/eps', [N, Z]);
  const z = plan.tensor('train/rows/z', [N, Z]);
  plan.call(reparamForwardKernel({ batch: N, latent: Z, seed: config.seed, sigma: 'logvar' }), { mu, logvar, step: T.step, eps, z });
  const zy = plan.tensor('train/rows/zy', [N, Z + M2_CLASSES]);
  plan.call(labelConcatKernel({ ...conditioned, width: Z, tiled: false }), { input: z, y, output: zy });
  const recon = forwardAll(r, vae.decoder, zy);

  const dRecon = plan.tensor('train/rows/dRecon', [N, F]);
  const dMu = plan.tensor('train/rows/dMu', [N, Z]);
  const dLogvar = plan.tensor('train/rows/dLogvar', [N, Z]);
  const dLogits = plan.tensor('train/dLogits', [R, 1]);
  plan.call(m2LossKernel({ ...conditioned, features: F, latent: Z, ...config.weights, accumulate: true, stepLosses: steps }), {
    recon: plan.view('train/rows/recon.flat', recon, 0, [N, F]),
    x,
    mu,
    logvar,
    logits: plan.view('train/logits.flat', logits, 0, [R]),
    y,
    loss: T.reportLoss,
    dRecon,
    dMu,
    dLogvar,
    dLogits: plan.view('train/dLogits.flat', dLogits, 0, [R]),
    cursor: T.trainCursor,
    stepLosses: T.stepLosses,
  });
  const dzy = backwardAll(r, vae.decoder, plan.view('train/rows/dRecon.shaped', dRecon, 0, [N, bins, marks]), true) as string;
  const dz = plan.tensor('train/rows/dz', [N, Z]);
  plan.call(labelConcatBackwardKernel({ ...conditioned, width: Z, tiled: false }), { dOutput: dzy, dInput: dz });
  plan.call(reparamBackwardKernel({ batch: N, latent: Z, sigma: 'logvar', accumulate: true }), { dz, eps, logvar, dMu, dLogvar });
  const dhy = vae.mu.backward(r, dMu, true) as string;
  vae.logvar.backward(r, dLogvar, true, dhy);
  const dh = plan.tensor('train/dh', [R, H]);
  plan.call(labelConcatBackwardKernel({ ...conditioned, width: H, tiled: true }), { dOutput: dhy, dInput: dh });
  // The classifier head's input gradient adds onto the trunk's gradient from q(z|x,y).
  let d = dLogits;
  for (let i = model.head.length - 1; i >= 0; i--) {
    const layer = model.head[i] as (typeof model.head)[number];
    d = layer.backward(g, d, true, i === 0 ? dh : undefined) as string;
  }
  backwardAll(g, vae.encoder, dh, false);
  appendOptimizerStep(plan, model.store, config.optimizer, T.step, T.trainCursor);

  appendPredictSegments(plan, model, config, predictCapacity);
  return { plan, model, config, predictCapacity, logitsOffset };
}

/** Uploads an epoch's m2.order: each step's labeled genes from the epoch's labeled order, then U unlabeled genes
 * from a shuffle that depends only on (seed, epoch), so a resumed run draws the same ones. */
export function m2EpochOrders(mp: M2Plan, unlabeled: Uint32Array, seed: number): (exec: Executor, epoch: number, labeledOrder: Uint32Array) => void {
  const { batch: B, unlabeledBatch: U, steps } = mp.config;
  return (exec, epoch, labeledOrder) => {
    const random = seededRandom((seed ^ Math.imul(epoch, 0x9e3779b1) ^ 0x3a2) >>> 0);
    const u = epochOrder(unlabeled, steps * U, random);
    const order = new Uint32Array(steps * (B + U));
    for (let s = 0; s < steps; s++) {
      order.set(labeledOrder.subarray(s * B, (s + 1) * B), s * (B + U));
      order.set(u.subarray(s * U, (s + 1) * U), s * (B + U) + B);
    }
    exec.write(M2.order, order);
  };
}
