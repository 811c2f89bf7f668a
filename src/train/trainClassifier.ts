import type { Executor } from '../plan/executor.ts';
import { epochOrder, seededRandom } from '../util/random.ts';
import { type ClassifierPlan, T, keptTensor } from './classifierPlan.ts';
import { runInSlices } from './runInSlices.ts';
import { type Scores, type Target, predictionsOf, scoresFor, selectionScore } from './target.ts';
import { ADAM_M, ADAM_V, GRADS, PARAMS } from '../nn/parameters.ts';

// The epoch loop around a classifier plan. Per epoch the host uploads one
// shuffled order (and a few counters), submits the training steps, submits the
// validation pass and reads `report` once. The best epoch by validation
// AUROC (DeepChrome's criterion), or by validation Pearson for the expression
// target, is kept on the device and restored for test.

export interface SplitIndices {
  readonly train: Uint32Array;
  readonly valid: Uint32Array;
  readonly test: Uint32Array;
}

export interface ClassifierData {
  /** [genes, features] row-major, already normalised. */
  readonly features: Float32Array;
  /** Per gene, what the plan's target trains towards: 0/1, or log10(RPKM + 1). */
  readonly labels: ArrayLike<number>;
  readonly split: SplitIndices;
}

export type { Scores };

export interface EpochRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  /** vae-joint: the mean ELBO per step over the epoch (total, MSE, KL before beta), unweighted by --joint-weight. */
  readonly elbo?: { readonly loss: number; readonly reconstruction: number; readonly kl: number };
  readonly valid: Scores;
  readonly seconds: number;
  readonly genesPerSecond: number;
}

export interface TrainResult {
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  readonly valid: Scores;
  readonly test: Scores;
  readonly target: Target;
  /** Per test gene, in split.test order: its probability, or its predicted log10(RPKM + 1). */
  readonly testPredictions: Float32Array;
}

/** Where a classifier's training stands after a finished epoch: what the loop
 * hands `afterEpoch`, what a checkpoint stores (src/checkpoint serialises it)
 * and what a resumed run continues from. The device tensors (parameters,
 * Adam's moments, best.params, the step counter) travel beside it. */
export interface ClassifierState {
  /** Epochs finished. */
  readonly epoch: number;
  /** The device step counter, epoch × steps per epoch (Adam's t; dropout masks are keyed on it). */
  readonly step: number;
  /** State of the host generator that shuffles each epoch, after this epoch's shuffle. */
  readonly rng: number;
  readonly bestEpoch: number;
  /** The best epoch's selection score (target.ts): validation AUROC, or validation Pearson for --target expression. */
  readonly bestAuroc: number;
  readonly history: readonly EpochRecord[];
}

export interface TrainLoopConfig {
  readonly epochs: number;
  /** Seeds the shuffles (the parameter init and GPU streams are seeded where they are built). */
  readonly seed: number;
  readonly onEpoch?: (r: EpochRecord) => void;
  /** Within an epoch: `done` of its `total` training steps have run (progress for someone watching a long epoch). */
  readonly onSteps?: (epoch: number, done: number, total: number) => void;
  /** Continue from a checkpoint instead of epoch 1. */
  readonly resume?: ClassifierState;
  /** Awaited after each finished epoch (and before onEpoch): where checkpoints are written. `improved`: this
   * epoch is the new best (best.params was just snapshotted). */
  readonly afterEpoch?: (state: ClassifierState, improved: boolean) => Promise<void>;
  /** Each epoch's training order (default: a shuffle of the labeled genes cycled to the plan's order length);
   * its length must be the plan's. vae-joint's puts unlabeled genes into every step. */
  readonly epochOrder?: (random: () => number) => Uint32Array;
  /** A [3] loss sum the train segment adds into (vae-joint's ELBO): zeroed each epoch, read into the record. */
  readonly elboLoss?: string;
  /** Called after each epoch's labeled order is uploaded, for a plan that reads more orders (vae-m2's unlabeled genes). */
  readonly epochOrders?: (exec: Executor, epoch: number, labeledOrder: Uint32Array) => void;
}

/** A non-finite training loss. `step` is 1-based within the epoch; `globalStep` counts from the start of the run. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly what: string,
    readonly epoch: number,
    readonly step: number,
    readonly stepsPerEpoch: number,
    readonly loss: number,
  ) {
    super(
      `${what} diverged: the loss is ${loss} at epoch ${epoch}, step ${step} of ${stepsPerEpoch} ` +
        `(step ${(epoch - 1) * stepsPerEpoch + step} of the run)`,
    );
  }

  get globalStep(): number {
    return (this.epoch - 1) * this.stepsPerEpoch + this.step;
  }
}

/** The first step whose running loss sum is not finite (a sum of non-negative
 * losses stays non-finite once it is), with that step's own loss. */
export function firstNonFiniteStep(runningSums: ArrayLike<number>, steps: number): { step: number; loss: number } {
  let previous = 0;
  for (let s = 0; s < steps; s++) {
    const sum = runningSums[s] as number;
    if (!Number.isFinite(sum)) return { step: s + 1, loss: Number.isFinite(previous) ? sum - previous : sum };
    previous = sum;
  }
  return { step: steps, loss: Number.NaN };
}

/** Reads the per-step running losses once, after an epoch's total came back non-finite, and names the step. */
export async function divergence(exec: Executor, tensor: string, what: string, epoch: number, steps: number): Promise<TrainingDivergedError> {
  const sums = await exec.read(tensor);
  const { step, loss } = firstNonFiniteStep(sums, steps);
  return new TrainingDivergedError(what, epoch, step, steps, loss);
}

export function stepsPerEpoch(trainGenes: number, batch: number): number {
  return Math.ceil(trainGenes / batch);
}


/** Uploads the data and the initial parameters; zeroes the optimizer state. */
export function initialise(exec: Executor, cp: ClassifierPlan, data: ClassifierData, initialParams: Float32Array): void {
  const genes = cp.config.genes;
  if (data.features.length !== genes * (data.features.length / genes) || data.labels.length !== genes) {
    throw new Error(`classifier data: ${data.labels.length} labels for a plan of ${genes} genes`);
  }
  exec.write(T.features, data.features);
  exec.write(T.labels, Float32Array.from(data.labels));
  exec.write(PARAMS, initialParams);
  const zeros = new Float32Array(cp.model.store.total);
  for (const t of [GRADS, ADAM_M, ADAM_V, T.best]) exec.write(t, zeros);
  exec.write(T.step, [0]);
}

/** What a checkpoint puts back on the device: flat buffers in the model's layout and the step counter. */
export interface ClassifierDeviceState {
  readonly params: Float32Array;
  readonly adamM: Float32Array;
  readonly adamV: Float32Array;
  readonly best: Float32Array;
  readonly step: number;
}

/** Uploads the data and a checkpoint's device state (gradients are rewritten by every step, so zeros do). */
export function initialiseFrom(exec: Executor, cp: ClassifierPlan, data: ClassifierData, state: ClassifierDeviceState): void {
  initialise(exec, cp, data, state.params);
  exec.write(ADAM_M, state.adamM);
  exec.write(ADAM_V, state.adamV);
  exec.write(T.best, state.best);
  exec.write(T.step, [state.step]);
}

/** Puts `genes` in the predict order (the rest of it is never reached) and
 * returns the number of predict batches that cover them. */
function setPredictOrder(exec: Executor, cp: ClassifierPlan, genes: Uint32Array): number {
  const order = new Uint32Array(cp.config.genes);
  order.set(genes.subarray(0, Math.min(genes.length, order.length)));
  exec.write(T.predictOrder, order);
  return Math.ceil(genes.length / cp.config.predictBatch);
}

/** Logits of the given genes, with the current parameters, in one submit and one read. */
export async function predictLogits(exec: Executor, cp: ClassifierPlan, genes: Uint32Array): Promise<Float32Array> {
  const batches = setPredictOrder(exec, cp, genes);
  exec.write(T.predictCursor, [0]);
  await exec.run(batches, 'predict');
  const report = await exec.read(T.report);
  return Float32Array.from(report.subarray(cp.logitsOffset, cp.logitsOffset + genes.length));
}

/** An activation the last predictLogits pass kept (ClassifierPlanConfig.keep) for its `genes`, in their order:
 * one read. */
export async function readKept(exec: Executor, cp: ClassifierPlan, name: string, genes: number): Promise<Float32Array> {
  const kept = await exec.read(keptTensor(name));
  return Float32Array.from(kept.subarray(0, (kept.length / cp.predictCapacity) * genes));
}

export async function trainClassifier(
  exec: Executor,
  cp: ClassifierPlan,
  data: ClassifierData,
  config: TrainLoopConfig,
): Promise<TrainResult> {
  const { batch } = cp.config;
  const { train, valid, test } = data.split;
  const steps = cp.config.steps ?? stepsPerEpoch(train.length, batch);
  const rowsPerStep = cp.config.rowsPerStep ?? batch;
  if (cp.config.steps === undefined && steps * rowsPerStep !== cp.config.trainOrderLength) {
    throw new Error(`classifier: plan built for a training order of ${cp.config.trainOrderLength}, data needs ${steps * batch}`);
  }
  const target = cp.config.target ?? 'class';
  const random = seededRandom(config.seed ^ 0x5eed);
  const validLabels = Array.from(valid, (g) => data.labels[g] as number);
  const history: EpochRecord[] = [...(config.resume?.history ?? [])];
  let best = { epoch: 0, auroc: Number.NEGATIVE_INFINITY };
  if (config.resume) {
    random.restore(config.resume.rng);
    best = { epoch: config.resume.bestEpoch, auroc: config.resume.bestAuroc };
  }
  // The validation genes stay in the predict order for the whole loop: each epoch only rewinds the cursor.
  const validBatches = setPredictOrder(exec, cp, valid);
  for (let epoch = (config.resume?.epoch ?? 0) + 1; epoch <= config.epochs; epoch++) {
    const t0 = performance.now();
    const order = config.epochOrder ? config.epochOrder(random) : epochOrder(train, cp.config.trainOrderLength, random);
    if (order.length !== cp.config.trainOrderLength) throw new Error(`classifier: an epoch order of ${order.length} for a plan of ${cp.config.trainOrderLength}`);
    exec.write(T.trainOrder, order);
    config.epochOrders?.(exec, epoch, order);
    exec.write(T.trainCursor, [0]);
    exec.write(T.reportLoss, [0]);
    if (config.elboLoss) exec.write(config.elboLoss, [0, 0, 0]);
    const onSteps = config.onSteps;
    await runInSlices(exec, steps, 'train', onSteps && ((done, total) => onSteps(epoch, done, total)));
    exec.write(T.predictCursor, [0]);
    await exec.run(validBatches, 'predict');
    const report = await exec.read(T.report);
    const seconds = (performance.now() - t0) / 1000;
    const trainLoss = (report[0] as number) / steps;
    if (!Number.isFinite(trainLoss)) throw await divergence(exec, T.stepLosses, 'training', epoch, steps);
    const logits = report.subarray(cp.logitsOffset, cp.logitsOffset + valid.length);
    const elbo = config.elboLoss ? await exec.read(config.elboLoss) : undefined;
    const record: EpochRecord = {
      epoch,
      trainLoss,
      ...(elbo ? { elbo: { loss: (elbo[0] as number) / steps, reconstruction: (elbo[1] as number) / steps, kl: (elbo[2] as number) / steps } } : {}),
      valid: scoresFor(target, validLabels, logits),
      seconds,
      genesPerSecond: (steps * rowsPerStep) / seconds,
    };
    history.push(record);
    // A first epoch is kept even at -Infinity (a constant prediction has no Pearson): there must be a best.
    const score = selectionScore(record.valid);
    const improved = score > best.auroc || best.epoch === 0;
    if (improved) {
      best = { epoch, auroc: score };
      await exec.run(1, 'snapshot');
    }
    await config.afterEpoch?.(
      {
        epoch,
        step: epoch * steps,
        rng: random.state(),
        bestEpoch: best.epoch,
        bestAuroc: best.auroc,
        history,
      },
      improved,
    );
    config.onEpoch?.(record);
  }
  if (best.epoch === 0) throw new Error(`classifier: no epoch to keep (asked for ${config.epochs}, ${config.resume?.epoch ?? 0} already done)`);
  await exec.run(1, 'restore');
  const validLogits = await predictLogits(exec, cp, valid);
  const testLogits = await predictLogits(exec, cp, test);
  const testLabels = Array.from(test, (g) => data.labels[g] as number);
  return {
    history,
    bestEpoch: best.epoch,
    valid: scoresFor(target, validLabels, validLogits),
    test: scoresFor(target, testLabels, testLogits),
    target,
    testPredictions: predictionsOf(target, testLogits),
  };
}
