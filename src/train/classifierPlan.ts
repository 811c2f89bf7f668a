import type { Shape } from '../kernels/kernel.ts';
import { elementCount } from '../kernels/kernel.ts';
import { activationForwardKernel } from '../kernels/activation.ts';
import { counterIncrementKernel } from '../kernels/counter.ts';
import { gatherRowsKernel, gatherValuesKernel } from '../kernels/gather.ts';
import { storeRowsKernel } from '../kernels/storeRows.ts';
import { type BuildContext, type Layer, backwardAll, checkChain, forwardAll } from '../nn/layer.ts';
import { PARAMS, type ParameterStore } from '../nn/parameters.ts';
import { Plan, VIEW_ALIGN_ELEMENTS } from '../plan/plan.ts';
import { type OptimizerConfig, appendOptimizerStep } from './optimizerStep.ts';
import { type Target, lossKernelFor } from './target.ts';

export type { OptimizerConfig };

// The whole life of a binary classifier as one static plan over one set of
// buffers. Segments:
//   train     one optimisation step: gather a minibatch through the shuffled
//             order, forward, the target's loss (BCE, or MSE for
//             --target expression; summed into report.loss, whose running value
//             is also stored per step in train.stepLosses), backward, Adam;
//             the step counter and the minibatch cursor advance on the GPU,
//             so an epoch is run(stepsPerEpoch, 'train') — one submit.
//   predict   one batch of logits through eval.order into report.logits.
//   snapshot  params → best.params (the best epoch so far, kept on the GPU)
//   restore   best.params → params
// The host reads `report` once per epoch.

export type { Model } from '../nn/model.ts';
import type { Model } from '../nn/model.ts';

export interface ClassifierPlanConfig {
  /** Rows of the feature matrix kept on the device. */
  readonly genes: number;
  readonly batch: number;
  readonly predictBatch: number;
  /** Length of the per-epoch training order: steps per epoch × batch. */
  readonly trainOrderLength: number;
  /** Rows of the training order one step takes; default batch (vae-joint's steps also take unlabeled genes). */
  readonly rowsPerStep?: number;
  readonly optimizer: OptimizerConfig;
  readonly seed: number;
  /** What the one output per gene is trained as (target.ts); default 'class'. */
  readonly target?: Target;
  /** Steps per epoch, where an epoch is not trainOrderLength / rowsPerStep (vae-m2: one pass over the unlabeled genes). */
  readonly steps?: number;
  /** Activations of the predict pass to keep for every gene, as report.logits keeps the logits: names under the
   * predict prefix (an AttentionPool's "binAttention.alpha"), each stored in `keptTensor(name)`,
   * [predictCapacity, its size per gene], by the same pass (predict --attention reads them). */
  readonly keep?: readonly string[];
}

const PREDICT_PREFIX = 'predict/';

/** Where the predict pass keeps the activation `name` (ClassifierPlanConfig.keep) for every gene. */
export const keptTensor = (name: string): string => `kept.${name}`;

export const T = {
  features: 'data.x',
  labels: 'data.y',
  trainOrder: 'train.order',
  trainCursor: 'train.cursor',
  step: 'step',
  predictOrder: 'predict.order',
  predictCursor: 'predict.cursor',
  report: 'report',
  reportLoss: 'report.loss',
  reportLogits: 'report.logits',
  /** [stepsPerEpoch, 1]: report.loss after each step of the epoch (a running sum), read only to find a divergent step. */
  stepLosses: 'train.stepLosses',
  best: 'best.params',
} as const;

export interface ClassifierPlan {
  readonly plan: Plan;
  readonly model: Model;
  readonly config: ClassifierPlanConfig;
  /** Rows of report.logits: whole predict batches covering every gene. */
  readonly predictCapacity: number;
  /** Element offset of the logits inside `report`. */
  readonly logitsOffset: number;
}

/** What a train segment is built from: the plan so far (data, order, report and parameter tensors declared). */
export interface TrainStepBuild {
  readonly plan: Plan;
  readonly model: Model;
  readonly config: ClassifierPlanConfig;
  /** Rows of train.stepLosses. */
  readonly steps: number;
  readonly context: (prefix: string, batch: number) => BuildContext;
}

/** Appends one optimisation step to the train segment; it ends with the optimizer step, which advances the cursor. */
export type TrainStep = (b: TrainStepBuild) => void;

/** The supervised step: minibatch → model → the target's loss → backward → Adam. */
export const supervisedStep: TrainStep = ({ plan, model, config, steps, context }) => {
  const { genes, batch } = config;
  const F = elementCount(model.inputShape);
  const train = context('train/', batch);
  const x = gatherInto(train, T.trainOrder, T.trainCursor, config.trainOrderLength, genes, F, model.inputShape);
  const y = gatherLabels(plan, batch, genes, config.trainOrderLength);
  const logits = forwardAll(train, model.layers, x);
  const dlogits = appendLoss(plan, batch, plan.view('train/logits.flat', logits, 0, [batch]), y, steps, config.target);
  backwardAll(train, model.layers, plan.view('train/dlogits.2d', dlogits, 0, [batch, 1]), false);
  appendOptimizerStep(plan, model.store, config.optimizer, T.step, T.trainCursor);
};

/** The labels of the training minibatch [batch], through the same order and cursor as its rows. */
export function gatherLabels(plan: Plan, batch: number, genes: number, indexLength: number): string {
  const y = plan.tensor('train/y', [batch]);
  plan.call(gatherValuesKernel({ rows: genes, batch, indexLength }), { source: T.labels, order: T.trainOrder, cursor: T.trainCursor, out: y });
  return y;
}

/** The target's loss (BCE on logits, or MSE for --target expression) of `outputs` [batch] against `targets`,
 * added into report.loss, whose running value is also stored per step (a NaN can then be traced to its step
 * without a host read per step); returns its gradient [batch]. */
export function appendLoss(plan: Plan, batch: number, outputs: string, targets: string, steps: number, target: Target = 'class'): string {
  const gradient = plan.tensor('train/dlogits', [batch]);
  const loss = lossKernelFor(target, { batch, accumulate: true });
  plan.call(loss.kernel, { [loss.output]: outputs, targets, loss: T.reportLoss, [loss.gradient]: gradient });
  plan.call(storeRowsKernel({ batch: 1, rowSize: 1, capacity: steps }), {
    src: plan.view('report.loss.row', T.report, 0, [1, 1]),
    cursor: T.trainCursor,
    dest: T.stepLosses,
  });
  return gradient;
}

export function buildClassifierPlan(model: Model, config: ClassifierPlanConfig, trainStep: TrainStep = supervisedStep): ClassifierPlan {
  checkChain(model.layers);
  const last = model.layers[model.layers.length - 1];
  if (!last || elementCount(last.outputShape) !== 1) throw new Error('classifier: the last layer must output one value (a logit, or the expression) per gene');
  const plan = new Plan();
  const { predictCapacity, logitsOffset, steps } = declareClassifierTensors(plan, model, config);
  plan.segment('train');
  trainStep({ plan, model, config, steps, context: (prefix, b) => classifierContext(plan, config, prefix, b, true) });

  appendPredictSegments(plan, model, config, predictCapacity);
  return { plan, model, config, predictCapacity, logitsOffset };
}

export function classifierContext(plan: Plan, config: Pick<ClassifierPlanConfig, 'seed'>, prefix: string, batch: number, training: boolean): BuildContext {
  return { plan, batch, training, prefix, step: T.step, seed: config.seed, saved: new Map() };
}

/** Every tensor of `T` (and the model's parameters) in `plan`: what the epoch loop and predict read and write,
 * shared by every classifier plan (this one and vae-m2's). */
export function declareClassifierTensors(
  plan: Plan,
  model: Model,
  config: ClassifierPlanConfig,
): { readonly predictCapacity: number; readonly logitsOffset: number; readonly steps: number } {
  const { genes, batch, predictBatch } = config;
  const F = elementCount(model.inputShape);
  model.store.declare(plan);
  plan.tensor(T.best, [model.store.total]);
  plan.tensor(T.features, [genes, F]);
  plan.tensor(T.labels, [genes]);
  plan.tensor(T.trainOrder, [config.trainOrderLength], 'u32');
  plan.tensor(T.trainCursor, [1], 'u32');
  plan.tensor(T.step, [1], 'u32');
  plan.tensor(T.predictOrder, [genes], 'u32');
  plan.tensor(T.predictCursor, [1], 'u32');
  const predictCapacity = Math.ceil(genes / predictBatch) * predictBatch;
  const logitsOffset = VIEW_ALIGN_ELEMENTS;
  plan.tensor(T.report, [logitsOffset + predictCapacity]);
  plan.view(T.reportLoss, T.report, 0, [1]);
  plan.view(T.reportLogits, T.report, logitsOffset, [predictCapacity, 1]);
  const steps = config.steps ?? Math.max(1, Math.ceil(config.trainOrderLength / (config.rowsPerStep ?? batch)));
  plan.tensor(T.stepLosses, [steps, 1]);
  return { predictCapacity, logitsOffset, steps };
}

/** The predict, snapshot and restore segments over `model.layers`. */
export function appendPredictSegments(plan: Plan, model: Model, config: ClassifierPlanConfig, predictCapacity: number): void {
  const { genes, predictBatch } = config;
  plan.segment('predict');
  const predict = classifierContext(plan, config, PREDICT_PREFIX, predictBatch, false);
  const px = gatherInto(predict, T.predictOrder, T.predictCursor, genes, genes, elementCount(model.inputShape), model.inputShape);
  const plogits = forwardAll(predict, model.layers, px);
  plan.call(storeRowsKernel({ batch: predictBatch, rowSize: 1, capacity: predictCapacity }), {
    src: plogits,
    cursor: T.predictCursor,
    dest: T.reportLogits,
  });
  for (const name of config.keep ?? []) {
    const activation = plan.get(`${PREDICT_PREFIX}${name}`);
    const rowSize = activation.size / predictBatch;
    plan.call(storeRowsKernel({ batch: predictBatch, rowSize, capacity: predictCapacity }), {
      src: plan.view(`${activation.name}.rows`, activation.name, 0, [predictBatch, rowSize]),
      cursor: T.predictCursor,
      dest: plan.tensor(keptTensor(name), [predictCapacity, rowSize]),
    });
  }
  plan.call(counterIncrementKernel(), { step: T.predictCursor });

  plan.segment('snapshot');
  plan.call(activationForwardKernel({ kind: 'none' }, [model.store.total]), { x: PARAMS, y: T.best });
  plan.segment('restore');
  plan.call(activationForwardKernel({ kind: 'none' }, [model.store.total]), { x: T.best, y: PARAMS });
}

/** Gathers one minibatch of feature rows and views it in the model's input shape. */
export function gatherInto(
  ctx: BuildContext,
  order: string,
  cursor: string,
  indexLength: number,
  genes: number,
  F: number,
  inputShape: Shape,
): string {
  const flat = ctx.plan.tensor(`${ctx.prefix}x`, [ctx.batch, F]);
  ctx.plan.call(gatherRowsKernel({ rows: genes, rowSize: F, batch: ctx.batch, indexLength }), {
    source: T.features,
    order,
    cursor,
    out: flat,
  });
  return inputShape.length === 1 ? flat : ctx.plan.view(`${ctx.prefix}x.shaped`, flat, 0, [ctx.batch, ...inputShape]);
}
