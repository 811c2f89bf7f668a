import type { SigmaParam } from '../cpu/reparam.ts';
import type { JointModel } from '../models/vaeJoint.ts';
import { Dense } from '../nn/dense.ts';
import { forwardAll } from '../nn/layer.ts';
import { type ClassifierPlan, type ClassifierPlanConfig, T, appendLoss, buildClassifierPlan, gatherInto, gatherLabels } from './classifierPlan.ts';
import { epochOrder } from '../util/random.ts';
import { appendOptimizerStep } from './optimizerStep.ts';
import { elboThroughDecoder, encodeForTraining, encoderBackward } from './vaePlan.ts';

// vae-joint's classifier plan: the predict, snapshot and restore segments of
// any classifier (its classifier reads the window through the encoder), and a
// train step that uses labels and unlabeled genes together:
//   rows   one gather of B = labeled + unlabeled rows through one order: the
//          first `batch` entries of each step's stretch are labeled genes, the
//          rest unlabeled train + valid genes (jointEpochOrder builds it), so
//          every view below starts at offset 0 and needs no alignment
//   VAE    encoder over all B rows → mu, logvar → sample → decoder → ELBO over
//          all B rows, its gradients × --joint-weight (elbo's gradientWeight)
//   head   MLP on mu of the labeled rows → BCE (report.loss, as any classifier)
//   back   the head's input gradient adds onto dMu of the labeled rows; the
//          encoder's backward then runs once over all B rows, so its parameter
//          gradients are the sum over both terms without any accumulating
//          weight-gradient kernel
//   Adam   one dispatch over encoder, decoder and head.
// The loss minimised is mean BCE + λ·(MSE + β·KL); report.loss keeps the BCE
// (the classifier's loss) and joint.elbo the unweighted ELBO (total, MSE, KL).

export const JOINT_ELBO = 'joint.elbo';

export interface JointPlanConfig extends Omit<ClassifierPlanConfig, 'rowsPerStep'> {
  /** Unlabeled rows per step. */
  readonly unlabeledBatch: number;
  readonly beta: number;
  readonly sigma: SigmaParam;
  /** λ: the ELBO's weight against the BCE. */
  readonly jointWeight: number;
}

export function buildJointPlan(jm: JointModel, config: JointPlanConfig): ClassifierPlan {
  const { unlabeledBatch, beta, sigma, jointWeight, ...rest } = config;
  const rows = config.batch + unlabeledBatch;
  if (config.trainOrderLength % rows !== 0) throw new Error(`vae-joint: training order of ${config.trainOrderLength} is not whole steps of ${rows} rows`);
  const first = jm.head[0];
  if (!(first instanceof Dense)) throw new Error('vae-joint: the head must start with a dense layer, whose input gradient can add onto dMu');
  return buildClassifierPlan(jm.classifier, { ...rest, rowsPerStep: rows }, ({ plan, config: c, steps, context }) => {
    const labeled = c.batch;
    const Z = jm.vae.latent;
    plan.tensor(JOINT_ELBO, [3]);
    const t = context('train/', rows);
    const x = gatherInto(t, T.trainOrder, T.trainCursor, c.trainOrderLength, c.genes, jm.vae.inputShape[0] * jm.vae.inputShape[1], jm.vae.inputShape);
    const y = gatherLabels(plan, rows, c.genes, c.trainOrderLength);
    const enc = encodeForTraining(t, jm.vae, x);
    const grads = elboThroughDecoder(t, jm.vae, `${t.prefix}x`, enc, { beta, sigma, loss: JOINT_ELBO, gradientWeight: jointWeight });

    const h = context('train/head/', labeled);
    const logits = forwardAll(h, jm.head, plan.view('train/mu.labeled', enc.mu, 0, [labeled, Z]));
    const dlogits = appendLoss(
      plan,
      labeled,
      plan.view('train/logits.flat', logits, 0, [labeled]),
      plan.view('train/y.labeled', y, 0, [labeled]),
      steps,
      c.target,
    );
    let d = plan.view('train/dlogits.2d', dlogits, 0, [labeled, 1]);
    for (let i = jm.head.length - 1; i > 0; i--) d = jm.head[i]?.backward(h, d, true) as string;
    first.backward(h, d, true, plan.view('train/dMu.labeled', grads.dMu, 0, [labeled, Z]));

    encoderBackward(t, jm.vae, grads);
    appendOptimizerStep(plan, jm.store, c.optimizer, T.step, T.trainCursor);
  });
}

/** One epoch's training order for buildJointPlan: per step, `batch` labeled genes (a fresh shuffle of all of
 * them, cycled, as a classifier's epoch) then `unlabeledBatch` unlabeled genes (a fresh shuffle of the pool,
 * cycled when the epoch needs more than the pool holds). */
export function jointEpochOrder(
  labeled: Uint32Array,
  unlabeled: Uint32Array,
  sizes: { readonly batch: number; readonly unlabeledBatch: number; readonly steps: number },
  random: () => number,
): Uint32Array {
  const { batch, unlabeledBatch, steps } = sizes;
  const l = epochOrder(labeled, steps * batch, random);
  const u = epochOrder(unlabeled, steps * unlabeledBatch, random);
  const rows = batch + unlabeledBatch;
  const out = new Uint32Array(steps * rows);
  for (let s = 0; s < steps; s++) {
    out.set(l.subarray(s * batch, (s + 1) * batch), s * rows);
    out.set(u.subarray(s * unlabeledBatch, (s + 1) * unlabeledBatch), s * rows + batch);
  }
  return out;
}
