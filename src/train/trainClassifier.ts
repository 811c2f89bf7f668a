import { sigmoid } from '../cpu/activation.ts';
import { accuracy } from '../metrics/accuracy.ts';
import { aupr } from '../metrics/aupr.ts';
import { auroc } from '../metrics/auroc.ts';
import type { Executor } from '../plan/executor.ts';
import { seededRandom } from '../util/random.ts';
import { type ClassifierPlan, T } from './classifierPlan.ts';
import { ADAM_M, ADAM_V, GRADS, PARAMS } from '../nn/parameters.ts';

// The epoch loop around a classifier plan. Per epoch the host uploads one
// shuffled order (and a few counters), submits the training steps, submits the
// validation pass and reads `report` once. The best epoch by validation
// AUROC (DeepChrome's criterion) is kept on the device and restored for test.

export interface SplitIndices {
  readonly train: Uint32Array;
  readonly valid: Uint32Array;
  readonly test: Uint32Array;
}

export interface ClassifierData {
  /** [genes, features] row-major, already normalised. */
  readonly features: Float32Array;
  /** 0/1 per gene. */
  readonly labels: ArrayLike<number>;
  readonly split: SplitIndices;
}

export interface Scores {
  readonly auroc: number;
  readonly aupr: number;
  readonly accuracy: number;
  readonly loss: number;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valid: Scores;
  readonly seconds: number;
  readonly genesPerSecond: number;
}

export interface TrainResult {
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  readonly valid: Scores;
  readonly test: Scores;
  /** Test-gene probabilities, in split.test order. */
  readonly testProbabilities: Float32Array;
}

export interface TrainLoopConfig {
  readonly epochs: number;
  /** Seeds the shuffles (the parameter init and GPU streams are seeded where they are built). */
  readonly seed: number;
  readonly onEpoch?: (r: EpochRecord) => void;
}

export function stepsPerEpoch(trainGenes: number, batch: number): number {
  return Math.ceil(trainGenes / batch);
}

/** Fisher–Yates over the training genes, wrapped to fill whole batches. */
function shuffledOrder(train: Uint32Array, length: number, random: () => number): Uint32Array {
  const perm = Uint32Array.from(train);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  const out = new Uint32Array(length);
  for (let i = 0; i < length; i++) out[i] = perm[i % perm.length] as number;
  return out;
}

function bceLoss(labels: ArrayLike<number>, logits: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const z = logits[i] as number;
    s += Math.max(z, 0) - z * (labels[i] as number) + Math.log1p(Math.exp(-Math.abs(z)));
  }
  return s / labels.length;
}

export function scoresOf(labels: ArrayLike<number>, logits: ArrayLike<number>): Scores {
  const p = Array.from(logits, sigmoid);
  return { auroc: auroc(labels, logits), aupr: aupr(labels, logits), accuracy: accuracy(labels, p), loss: bceLoss(labels, logits) };
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

/** Logits of the given genes, with the current parameters, in one submit and one read. */
export async function predictLogits(exec: Executor, cp: ClassifierPlan, genes: Uint32Array): Promise<Float32Array> {
  const order = new Uint32Array(cp.config.genes);
  order.set(genes.subarray(0, Math.min(genes.length, order.length)));
  exec.write(T.predictOrder, order);
  exec.write(T.predictCursor, [0]);
  await exec.run(Math.ceil(genes.length / cp.config.predictBatch), 'predict');
  const report = await exec.read(T.report);
  return Float32Array.from(report.subarray(cp.logitsOffset, cp.logitsOffset + genes.length));
}

export async function trainClassifier(
  exec: Executor,
  cp: ClassifierPlan,
  data: ClassifierData,
  config: TrainLoopConfig,
): Promise<TrainResult> {
  const { batch } = cp.config;
  const { train, valid, test } = data.split;
  const steps = stepsPerEpoch(train.length, batch);
  if (steps * batch !== cp.config.trainOrderLength) {
    throw new Error(`classifier: plan built for a training order of ${cp.config.trainOrderLength}, data needs ${steps * batch}`);
  }
  const random = seededRandom(config.seed ^ 0x5eed);
  const validLabels = Array.from(valid, (g) => data.labels[g] as number);
  const history: EpochRecord[] = [];
  let best = { epoch: 0, auroc: Number.NEGATIVE_INFINITY };
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const t0 = performance.now();
    exec.write(T.trainOrder, shuffledOrder(train, cp.config.trainOrderLength, random));
    exec.write(T.trainCursor, [0]);
    exec.write(T.reportLoss, [0]);
    await exec.run(steps, 'train');
    const order = new Uint32Array(cp.config.genes);
    order.set(valid);
    exec.write(T.predictOrder, order);
    exec.write(T.predictCursor, [0]);
    await exec.run(Math.ceil(valid.length / cp.config.predictBatch), 'predict');
    const report = await exec.read(T.report);
    const seconds = (performance.now() - t0) / 1000;
    const trainLoss = (report[0] as number) / steps;
    if (!Number.isFinite(trainLoss)) throw new Error(`training diverged: loss is ${trainLoss} at epoch ${epoch}`);
    const logits = report.subarray(cp.logitsOffset, cp.logitsOffset + valid.length);
    const record: EpochRecord = {
      epoch,
      trainLoss,
      valid: scoresOf(validLabels, logits),
      seconds,
      genesPerSecond: (steps * batch) / seconds,
    };
    history.push(record);
    config.onEpoch?.(record);
    if (record.valid.auroc > best.auroc) {
      best = { epoch, auroc: record.valid.auroc };
      await exec.run(1, 'snapshot');
    }
  }
  await exec.run(1, 'restore');
  const validLogits = await predictLogits(exec, cp, valid);
  const testLogits = await predictLogits(exec, cp, test);
  const testLabels = Array.from(test, (g) => data.labels[g] as number);
  return {
    history,
    bestEpoch: best.epoch,
    valid: scoresOf(validLabels, validLogits),
    test: scoresOf(testLabels, testLogits),
    testProbabilities: Float32Array.from(testLogits, sigmoid),
  };
}
