import { backwardAll, forwardAll } from '../nn/layer.ts';
import type { Model } from '../nn/model.ts';
import { Plan } from '../plan/plan.ts';
import { mlpModel } from '../models/mlp.ts';
import { type Target, lossKernelFor } from './target.ts';

// The full-batch objective of a linear model as one plan segment, `evaluate`:
// the forward pass over every labeled training gene at once, the target's mean
// loss (BCE with logits, or MSE), the parameter gradient (one dense layer's
// backward), and the validation genes' outputs at the same parameters. The
// host (linearFit.ts) adds the L2 penalty and steps L-BFGS in float64; the
// parameters live in the same flat layout as logreg's classifier (one dense
// layer "out", weight [width, 1] then bias), so a fit is a checkpoint as it is.

export const L = {
  trainX: 'linear.trainX',
  trainY: 'linear.trainY',
  validX: 'linear.validX',
  loss: 'linear.loss',
  step: 'linear.step',
} as const;

export interface LinearObjectivePlan {
  readonly plan: Plan;
  readonly model: Model;
  readonly width: number;
  readonly trainGenes: number;
  readonly validGenes: number;
  /** The validation genes' outputs [validGenes, 1]. */
  readonly validOutputs: string;
}

export function buildLinearObjectivePlan(sizes: { readonly width: number; readonly trainGenes: number; readonly validGenes: number; readonly target: Target }): LinearObjectivePlan {
  const { width, trainGenes, validGenes, target } = sizes;
  const model = mlpModel({ inputShape: [width], hidden: [] });
  const plan = new Plan();
  model.store.declare(plan);
  plan.tensor(L.trainX, [trainGenes, width]);
  plan.tensor(L.trainY, [trainGenes]);
  plan.tensor(L.validX, [validGenes, width]);
  plan.tensor(L.loss, [1]);
  plan.tensor(L.step, [1], 'u32');
  const context = (prefix: string, batch: number) => ({ plan, batch, training: false, prefix, step: L.step, seed: 0, saved: new Map() });
  plan.segment('evaluate');
  const train = context('train/', trainGenes);
  const outputs = forwardAll(train, model.layers, L.trainX);
  const gradient = plan.tensor('train/doutputs', [trainGenes]);
  const loss = lossKernelFor(target, { batch: trainGenes });
  plan.call(loss.kernel, { [loss.output]: plan.view('train/outputs.flat', outputs, 0, [trainGenes]), targets: L.trainY, loss: L.loss, [loss.gradient]: gradient });
  backwardAll(train, model.layers, plan.view('train/doutputs.2d', gradient, 0, [trainGenes, 1]), false);
  const validOutputs = forwardAll(context('valid/', validGenes), model.layers, L.validX);
  return { plan, model, width, trainGenes, validGenes, validOutputs };
}
