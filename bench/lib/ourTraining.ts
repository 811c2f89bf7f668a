import { HEURISTIC_TARGET } from '../../src/kernels/gemm.ts';
import type { GpuTarget } from '../../src/kernels/gpuTarget.ts';
import type { VariantPolicy } from '../../src/plan/autotune.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { ATTENTIVE_CHROME_HIDDEN, attentiveChromeModel } from '../../src/models/attentiveChrome.ts';
import { deepChromeModel } from '../../src/models/deepchrome.ts';
import { attentivechromeDefinition } from '../../src/models/definitions/attentivechrome.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { vaeModel } from '../../src/models/vae.ts';
import { ADAM_M, ADAM_V, GRADS, PARAMS } from '../../src/nn/parameters.ts';
import { type ExecutorStats, GpuExecutor } from '../../src/plan/gpuExecutor.ts';
import type { Plan } from '../../src/plan/plan.ts';
import { T, buildClassifierPlan } from '../../src/train/classifierPlan.ts';
import { V, buildVaePlan } from '../../src/train/vaePlan.ts';
import type { BenchData } from './benchData.ts';

// Our side of the training benchmark: the model's training plan (the same
// plan builders the CLI uses) on the GPU executor, driven the way the epoch
// loops in src/train drive it: per epoch one upload of the shuffled order and
// the counters, one submit of every step, one read of the summed loss.

export const BENCH_MODELS = ['vae', 'mlp', 'deepchrome', 'attentivechrome'] as const;
export type BenchModel = (typeof BENCH_MODELS)[number];

/** The CLI's defaults. */
export const LEARNING_RATE = 1e-3;
/** attentivechrome's own training defaults (its public code's lr and gradient-norm clip); the bench runs every
 * model at the same batches, so its batch default (10) is not used here. */
const ATTENTIVE = attentivechromeDefinition.trainingDefaults;
export const ATTENTIVE_LR = ATTENTIVE?.lr ?? LEARNING_RATE;
export const ATTENTIVE_CLIP = ATTENTIVE?.clip;
export const VAE_BETA = 5e-5;
export const VAE_LATENT = 10;

export interface OurTrainer {
  readonly exec: GpuExecutor;
  readonly plan: Plan;
  /** The GEMM variants the executor was built with, for counting its dispatches. */
  readonly target: GpuTarget;
  readonly batch: number;
  readonly stepsPerEpoch: number;
  /** Trainable numbers (padding of the flat buffer excluded). */
  readonly parameters: number;
  /** One epoch over `order` (length stepsPerEpoch · batch); returns the mean loss. */
  epoch(order: Uint32Array): Promise<number>;
  destroy(): void;
}

/** Dispatches one run of a plan segment records (its kernels' dispatch lists). */
export function segmentDispatches(plan: Plan, segment: string, target: GpuTarget = HEURISTIC_TARGET): number {
  const { start, end } = plan.range(segment);
  return plan.calls.slice(start, end).reduce((n, c) => n + c.kernel.gpu(target).length, 0);
}

export function statsDelta(after: ExecutorStats, before: ExecutorStats): ExecutorStats {
  return {
    dispatches: after.dispatches - before.dispatches,
    submits: after.submits - before.submits,
    hostReads: after.hostReads - before.hostReads,
    bytesUploaded: after.bytesUploaded - before.bytesUploaded,
  };
}

/** Shapes a bench model is built at; the defaults are the papers'. */
export interface ModelShape {
  readonly bins: number;
  readonly marks: number;
  /** VAE only: override the conv channels / latent (tests use small ones). */
  readonly vaeChannels?: readonly [number, number];
  readonly latent?: number;
  /** mlp and deepchrome only: hidden widths. */
  readonly hidden?: readonly number[];
  /** attentivechrome only: LSTM units per direction over the bins and over the marks. */
  readonly lstmHidden?: readonly [number, number];
}

/** `variants` chooses each GEMM's variant as run.ts does (tuned and cached); without it, the heuristic. */
export async function buildOurTrainer(
  gpu: Gpu,
  model: BenchModel,
  data: BenchData,
  batch: number,
  seed: number,
  shape?: Partial<ModelShape>,
  variants?: VariantPolicy,
): Promise<OurTrainer> {
  const steps = Math.ceil(data.train.length / batch);
  const trainOrderLength = steps * batch;
  const bins = data.bins;
  const marks = data.marks;
  let plan: Plan;
  let total: number;
  let parameters: number;
  let initial: Float32Array;
  let lossValues: number;
  let extraWrites: [string, Float32Array][] = [];
  if (model === 'vae') {
    const m = vaeModel({ bins, marks, latent: shape?.latent ?? VAE_LATENT, ...(shape?.vaeChannels ? { channels: shape.vaeChannels } : {}) });
    plan = buildVaePlan(m, {
      genes: data.genes,
      batch,
      encodeBatch: Math.min(256, data.genes),
      trainOrderLength,
      beta: VAE_BETA,
      sigma: 'logvar',
      optimizer: { lr: LEARNING_RATE },
      seed,
    }).plan;
    total = m.store.total;
    parameters = m.store.count;
    initial = m.store.initialValues(seed);
    lossValues = 3;
  } else {
    const m =
      model === 'mlp'
        ? mlpModel({ inputShape: [bins, marks], ...(shape?.hidden ? { hidden: shape.hidden } : {}) })
        : model === 'deepchrome'
          ? deepChromeModel({ bins, marks, ...(shape?.hidden ? { hidden: shape.hidden } : {}) })
          : attentiveChromeModel({ bins, marks, hidden: shape?.lstmHidden ?? ATTENTIVE_CHROME_HIDDEN });
    plan = buildClassifierPlan(m, {
      genes: data.genes,
      batch,
      predictBatch: Math.min(256, data.genes),
      trainOrderLength,
      optimizer: model === 'attentivechrome' ? { lr: ATTENTIVE_LR, clip: ATTENTIVE_CLIP } : { lr: LEARNING_RATE },
      seed,
    }).plan;
    total = m.store.total;
    parameters = m.store.count;
    initial = m.store.initialValues(seed);
    lossValues = 1;
    extraWrites = [
      [T.labels, data.labels],
      [T.best, new Float32Array(total)],
    ];
  }
  // The VAE and classifier plans name their shared tensors alike; each is addressed through its own table.
  const names = model === 'vae' ? V : T;
  const target = variants ? await variants.targetFor(plan) : HEURISTIC_TARGET;
  const exec = await GpuExecutor.create(gpu, plan, target);
  exec.write(names.features, data.features);
  for (const [name, values] of extraWrites) exec.write(name, values);
  exec.write(PARAMS, initial);
  const zeros = new Float32Array(total);
  for (const t of [GRADS, ADAM_M, ADAM_V]) exec.write(t, zeros);
  exec.write(names.step, [0]);
  return {
    exec,
    plan,
    target,
    batch,
    stepsPerEpoch: steps,
    parameters,
    epoch: async (order) => {
      if (order.length !== trainOrderLength) throw new Error(`bench ${model}: epoch order of ${order.length}, the plan takes ${trainOrderLength}`);
      exec.write(names.trainOrder, order);
      exec.write(names.trainCursor, [0]);
      exec.write(names.reportLoss, new Float32Array(lossValues));
      await exec.run(steps, 'train');
      const loss = await exec.read(names.reportLoss);
      const mean = (loss[0] as number) / steps;
      if (!Number.isFinite(mean)) throw new Error(`bench ${model}: training diverged (loss ${mean})`);
      return mean;
    },
    destroy: () => exec.destroy(),
  };
}
