import { HEURISTIC_TARGET } from '../kernels/gemm.ts';
import type { VariantPolicy } from '../plan/autotune.ts';
import type { Dataset } from '../data/dataset.ts';
import { type Neighbors, withNeighbors } from '../data/neighbors.ts';
import type { Gpu } from '../gpu/device.ts';
import {
  type ClassifierInput,
  type ClassifierSpec,
  type VaeSpec,
  buildClassifier,
  buildVae,
  isJointSpec,
  isM2Spec,
  withPenalty,
  vaeSpec,
} from '../models/modelSpec.ts';
import { LOGREG_L2_EXTEND_HIGH, LOGREG_L2_EXTEND_LOW, LOGREG_L2_GRID } from '../models/logreg.ts';
import { classifierSpecFor, derivedFeatures, isLinear, isSemiSupervisedVae, predictsExpression, pretrainsVae, readsLatents, trainsJointly, usesNeighbors } from '../models/registry.ts';
import type { ExpressionTable } from '../data/expressionTable.ts';
import type { FeatureContext } from '../models/derivedFeatures.ts';
import { jointModel } from '../models/vaeJoint.ts';
import type { M2Model } from '../models/vaeM2.ts';
import { m2StartFromVae } from '../models/m2FromVae.ts';
import { PARAMS } from '../nn/parameters.ts';
import { CpuExecutor, type CpuPrecision } from '../plan/cpuExecutor.ts';
import type { Executor } from '../plan/executor.ts';
import { GpuExecutor } from '../plan/gpuExecutor.ts';
import type { Plan } from '../plan/plan.ts';
import { type ClassifierPlan, buildClassifierPlan } from './classifierPlan.ts';
import { JOINT_ELBO, buildJointPlan, jointEpochOrder } from './jointPlan.ts';
import { buildM2Plan, m2EpochOrders, m2Weights } from './m2Plan.ts';
import { labeledSubset, observedValues, requireScorable, splitIndices } from './prepare.ts';
import {
  type ClassifierState,
  type EpochRecord,
  type SplitIndices,
  type TrainLoopConfig,
  type TrainResult,
  initialise,
  initialiseFrom,
  predictLogits,
  stepsPerEpoch,
  trainClassifier,
} from './trainClassifier.ts';
import { type VaeEpochRecord, encodeAll, initialiseVae, initialiseVaeFrom, trainVae } from './trainVae.ts';
import { predictionsOf, scoresFor, selectionScore } from './target.ts';
import type { Executor as PlanExecutor } from '../plan/executor.ts';
import { LINEAR_FIT_DEFAULTS, type LinearFit, type PenaltyFitRecord, fitLinearModel } from './linearFit.ts';
import { elementCount } from '../kernels/kernel.ts';
import { buildVaePlan } from './vaePlan.ts';
import type { CheckpointSink } from './checkpointSink.ts';
import type { TrainedValue, WeightSearchStore } from './weightSearchStore.ts';
import type { RunSettings } from './runSettings.ts';
import type { StoredClassifier, StoredVae } from './storedModel.ts';

// One model trained and evaluated on one (normalised) dataset, on either
// executor. The VAE-based models first train the VAE on the unlabeled inputs
// of the train and valid genes (never test), encode every gene, and then
// train the MLP on latent means (with neighbours' latents appended);
// vae-joint instead trains that VAE and an MLP head together (jointPlan.ts).

/** On the GPU, `variants` decides each GEMM's variant (tuned, forced or by heuristic) and records what it gave out. */
/** The CPU's `precision` 'f64' holds every f32 tensor as float64 (the finite-difference checks); default 'f32'. */
export type Device = { readonly kind: 'gpu'; readonly gpu: Gpu; readonly variants?: VariantPolicy } | { readonly kind: 'cpu'; readonly precision?: CpuPrecision };

export interface RunOutcome {
  readonly result: TrainResult;
  readonly spec: ClassifierSpec;
  /** Latent means of every gene [genes, latent] (vae-* models). */
  readonly latents?: Float32Array;
  readonly vaeHistory: readonly VaeEpochRecord[] | undefined;
  readonly labeledGenes: number;
  readonly parameters: number;
  readonly split: SplitIndices;
  readonly neighbors?: { readonly kind: string; readonly k: number; readonly unmatched: number };
  /** A 'derived'-input model's feature matrix: its width and its builder's counts (e.g. genes missing from the table). */
  readonly derived?: { readonly width: number; readonly counts: Readonly<Record<string, number>> };
  /** A linear model: the penalties tried, each fit's convergence, and the one kept. */
  readonly penalty?: PenaltySearch;
  /** vae-m2's α or vae-joint's λ: the values trained, each one's validation score, and the one kept. */
  readonly weightSearch?: WeightSearch;
  readonly seconds: { readonly vae: number; readonly classifier: number };
}

export interface Progress {
  epoch(model: string, r: EpochRecord, epochs: number): void;
  vaeEpoch(r: VaeEpochRecord, epochs: number): void;
  /** Within an epoch: `done` of its `total` training steps have run. Optional: without it the GPU runs each epoch
   * in one submit, as it does unwatched. */
  steps?(at: EpochAt, done: number, total: number): void;
  /** A resumed run continues the VAE or a classifier from a checkpoint that holds these finished epochs; the
   * epochs after them are reported as they finish. */
  resumed?(from: ResumedPhase): void;
}

/** Which epoch a `steps` report is of: the VAE's (model 'vae') or the classifier's, labelled as `epoch` labels it. */
export interface EpochAt {
  readonly phase: 'vae' | 'classifier';
  readonly model: string;
  readonly epoch: number;
  readonly epochs: number;
}

export type ResumedPhase =
  | { readonly phase: 'vae'; readonly epochs: number; readonly history: readonly VaeEpochRecord[] }
  | { readonly phase: 'classifier'; readonly model: string; readonly epochs: number; readonly history: readonly EpochRecord[] };

/** The trainers' onSteps for `progress`, or nothing when it does not watch steps. */
function stepsOf(progress: Progress, phase: EpochAt['phase'], model: string, epochs: number): { onSteps?: (epoch: number, done: number, total: number) => void } {
  const steps = progress.steps?.bind(progress);
  return steps ? { onSteps: (epoch, done, total) => steps({ phase, model, epoch, epochs }, done, total) } : {};
}

/** Checkpoints to write as training goes, and checkpoints to continue from. */
export interface RunHooks {
  readonly checkpoints?: CheckpointSink;
  /** Each gene's neighbours (vae-mlp-neighbors only): neighborSources.ts reads them from disk. */
  readonly neighbors?: (ds: Dataset, s: RunSettings) => Promise<Neighbors>;
  /** The 56-cell RPKM table at s.expressionTable (expression-prior): neighborSources.ts reads it. */
  readonly expressionTable?: (s: RunSettings) => Promise<ExpressionTable>;
  readonly resume?: { readonly vae?: StoredVae; readonly classifier?: StoredClassifier };
  /** A search over several loss-weight values keeps each value's checkpoints and finished result here. */
  readonly weightValues?: WeightSearchStore;
}

function sameSpec(a: ClassifierSpec | VaeSpec, b: ClassifierSpec | VaeSpec, file: string): void {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${file}: holds a model of sizes ${JSON.stringify(b)}, this run builds ${JSON.stringify(a)}`);
  }
}

export async function executorFor(device: Device, plan: Plan): Promise<Executor & { destroy?: () => void }> {
  if (device.kind === 'cpu') return new CpuExecutor(plan, device.precision);
  return GpuExecutor.create(device.gpu, plan, device.variants ? await device.variants.targetFor(plan) : HEURISTIC_TARGET);
}

/** `params`: the trained VAE's flat parameter buffer (vae-joint starts from it). */
export type VaeLatents = { latents: Float32Array; history: VaeEpochRecord[]; parameters: number; params: Float32Array };

/** Latents of the VAE trained on `unlabeled` genes, cached per (dataset, seed, settings) by the caller. */
export async function trainVaeLatents(
  ds: Dataset,
  unlabeled: Uint32Array,
  s: RunSettings,
  device: Device,
  progress: Progress,
  hooks: RunHooks = {},
): Promise<VaeLatents> {
  const spec = vaeSpec(ds.bins, ds.marks.length, s.latent);
  const model = buildVae(spec);
  const batch = Math.min(s.vaeBatch, unlabeled.length);
  const vp = buildVaePlan(model, {
    genes: ds.genes,
    batch,
    encodeBatch: Math.min(256, ds.genes),
    trainOrderLength: stepsPerEpoch(unlabeled.length, batch) * batch,
    beta: s.beta,
    sigma: s.sigma,
    optimizer: { lr: s.lr },
    seed: s.seed,
  });
  const exec = await executorFor(device, vp.plan);
  const from = hooks.resume?.vae;
  try {
    if (from) {
      sameSpec(spec, from.spec, from.file);
      initialiseVaeFrom(exec, vp, ds.features, { ...from, step: from.state.step });
      progress.resumed?.({ phase: 'vae', epochs: s.vaeEpochs, history: from.state.history });
    } else {
      initialiseVae(exec, vp, ds.features, model.store.initialValues(s.seed));
    }
    const checkpoints = hooks.checkpoints;
    const history = await trainVae(exec, vp, unlabeled, {
      epochs: s.vaeEpochs,
      seed: s.seed,
      onEpoch: (r) => progress.vaeEpoch(r, s.vaeEpochs),
      ...stepsOf(progress, 'vae', 'vae', s.vaeEpochs),
      ...(from ? { resume: from.state } : {}),
      ...(checkpoints ? { afterEpoch: (state) => checkpoints.saveVae(exec, vp, spec, state) } : {}),
    });
    return { latents: await encodeAll(exec, vp), history, parameters: model.store.count, params: Float32Array.from(await exec.read(PARAMS)) };
  } finally {
    exec.destroy?.();
  }
}

/** Whether the run first trains (or reads the stored) SimpleChrome VAE: every model that pretrains one, but vae-m2
 * under --m2-init random, which starts from random weights as it did before it started from the VAE. */
export function trainsVaeFirst(s: Pick<RunSettings, 'model' | 'm2Init'>): boolean {
  return pretrainsVae(s.model) && !(isSemiSupervisedVae(s.model) && s.m2Init === 'random');
}

/** The genes the VAE trains on: every train and valid gene, labeled or not (never test). */
export function vaeTrainingGenes(all: SplitIndices): Uint32Array {
  return Uint32Array.from([...all.train, ...all.valid]).sort();
}

// Moved to src/data/neighbors.ts, where logreg-neighbors' feature builder reads it too.
export { withNeighbors } from '../data/neighbors.ts';

export async function runModel(
  ds: Dataset,
  s: RunSettings,
  device: Device,
  progress: Progress,
  /** Shares one VAE among runs: `make` trains it, with checkpoints and resume where `vaeHooks` give them. */
  cachedLatents?: (key: string, make: (vaeHooks?: RunHooks) => Promise<VaeLatents>) => Promise<VaeLatents>,
  hooks: RunHooks = {},
): Promise<RunOutcome> {
  const all = splitIndices(ds);
  if (all.train.length === 0 || all.valid.length === 0 || all.test.length === 0) {
    throw new Error(
      `${ds.cell}: every split needs genes (train ${all.train.length}, valid ${all.valid.length}, test ${all.test.length})`,
    );
  }
  const split: SplitIndices = { ...all, train: labeledSubset(all.train, s.trainSize, s.seed) };
  const observed = observedValues(ds, s.target);
  // The command line refuses this first (flagScope.ts); a caller of runModel gets the same refusal, not a model that trained on nothing it can learn.
  if (s.target === 'expression' && !predictsExpression(s.model)) throw new Error(`${s.model} cannot learn --target expression: its label is a latent class of two values`);
  requireScorable(ds, s.target, split, observed);

  let features = ds.features;
  let latents: Float32Array | undefined;
  let vaeHistory: VaeEpochRecord[] | undefined;
  let vaeParameters = 0;
  let neighborInfo: RunOutcome['neighbors'];
  let latentWidth: number | undefined;
  let joint: JointStart | undefined;
  const t0 = performance.now();
  if (trainsVaeFirst(s)) {
    const unlabeled = vaeTrainingGenes(all);
    const make = (vaeHooks: RunHooks = hooks) => trainVaeLatents(ds, unlabeled, s, device, progress, vaeHooks);
    const key = `${ds.cell}|${s.seed}|${s.latent}|${s.beta}|${s.sigma}|${s.vaeEpochs}|${s.lr}|${s.vaeBatch}`;
    const vae = cachedLatents ? await cachedLatents(key, make) : await make();
    vaeHistory = vae.history;
    vaeParameters = vae.parameters;
    latents = vae.latents;
    latentWidth = s.latent;
    if (readsLatents(s.model)) features = vae.latents;
    else joint = { unlabeled, vaeParams: vae.params, vaeSpec: vaeSpec(ds.bins, ds.marks.length, s.latent) };
    if (usesNeighbors(s.model)) {
      if (!hooks.neighbors) throw new Error(`${s.model}: no source of neighbour genes was given`);
      const n = await hooks.neighbors(ds, s);
      features = withNeighbors(vae.latents, s.latent, n);
      latentWidth = s.latent * (1 + n.width);
      neighborInfo = { kind: n.kind, k: n.k, unmatched: n.unmatched.length };
    }
  }
  if (isSemiSupervisedVae(s.model)) latentWidth = s.latent;
  let derived: RunOutcome['derived'];
  const derive = derivedFeatures(s.model);
  if (derive) {
    // Built from every gene's inputs (test genes' windows or other cells' expression included), never from labels.
    const d = await derive(featureContext(ds, s, hooks));
    features = d.features;
    derived = { width: d.width, counts: d.counts };
    if (d.neighbors) neighborInfo = { kind: d.neighbors.kind, k: d.neighbors.k, unmatched: d.neighbors.unmatched.length };
  }
  const input = {
    bins: ds.bins,
    marks: ds.marks.length,
    ...(latentWidth !== undefined ? { latentWidth } : {}),
    ...(derived ? { derivedWidth: derived.width } : {}),
  };
  const t1 = performance.now();
  // vae-m2 also learns from the train and valid genes that carry no label for it (their labels are never read).
  const labeled = new Set(split.train);
  const unlabeled = isSemiSupervisedVae(s.model) ? Uint32Array.from([...all.train, ...all.valid].filter((g) => !labeled.has(g))).sort() : undefined;
  const data = { features, labels: observed, split, ...(unlabeled ? { unlabeled } : {}) };
  const train = (spec: ClassifierSpec, runHooks: RunHooks, label: string) => trainClassifierSpec(spec, data, s, device, progress, runHooks, label, joint);

  let trained: { result: TrainResult; spec: ClassifierSpec; parameters: number };
  let penalty: PenaltySearch | undefined;
  let weightSearch: WeightSearch | undefined;
  const weights = searchedWeight(s);
  if (isLinear(s.model)) {
    ({ trained, penalty } = await fitLinear(classifierSpecFor(s.model, input), data, s, device, progress, hooks));
  } else if (weights) {
    ({ trained, weightSearch } = await searchWeight(weights, classifierSpecFor(s.model, input), (spec, runHooks, label, weight, save) =>
      trainClassifierSpec(spec, data, s, device, progress, runHooks, label, joint, weight, save), s.model, hooks));
  } else {
    trained = await train(classifierSpecFor(s.model, input), hooks, s.model);
  }
  return {
    result: trained.result,
    spec: trained.spec,
    ...(latents ? { latents } : {}),
    vaeHistory,
    labeledGenes: split.train.length,
    ...(weightSearch ? { weightSearch } : {}),
    // vae-joint's classifier store holds its VAE already, and vae-m2's its own VAE started from it.
    parameters: trained.parameters + (joint ? 0 : vaeParameters),
    split,
    ...(neighborInfo ? { neighbors: neighborInfo } : {}),
    ...(derived ? { derived } : {}),
    ...(penalty ? { penalty } : {}),
    seconds: { vae: (t1 - t0) / 1000, classifier: (performance.now() - t1) / 1000 },
  };
}

/** What a derived-input model's feature builder may read: the sources come from the hooks (node:fs lives there). */
export function featureContext(ds: Dataset, s: RunSettings, hooks: Pick<RunHooks, 'neighbors' | 'expressionTable'>): FeatureContext {
  return {
    ds,
    neighbors: () => {
      if (!hooks.neighbors) throw new Error(`${s.model}: no source of neighbour genes was given`);
      return hooks.neighbors(ds, s);
    },
    expressionTable: () => {
      if (!hooks.expressionTable) throw new Error(`${s.model}: no source of the expression table was given`);
      return hooks.expressionTable(s);
    },
  };
}

/** A linear model's L2 penalty, chosen by the validation score (AUROC, or Pearson for the expression target:
 * target.ts selectionScore) of each penalty's converged fit. */
export interface PenaltySearch {
  /** The penalties tried, strongest first (the grid, and any values it was extended by). */
  readonly grid: readonly number[];
  /** Validation AUROC (or Pearson) of each fit, in grid order. */
  readonly validAuroc: readonly number[];
  readonly chosen: number;
  /** Each penalty's fit: L-BFGS iterations, the objective's gradient (infinity norm) at the end, whether that met
   * the tolerance, why it stopped. */
  readonly fits: readonly PenaltyFitRecord[];
  /** The chosen fit's. */
  readonly iterations: number;
  readonly gradientNorm: number;
  readonly converged: boolean;
  /** Set when the best penalty lies at an end of the grid even after extending it that way. */
  readonly penaltyAtEdge?: 'low' | 'high';
}

type Trained = TrainedValue;

/** A linear model (registry `linear`) fit as the convex problem it is (linearFit.ts): full-batch L-BFGS to
 * convergence at every penalty of the grid, the best kept by validation score. Its valid and test scores come
 * from the classifier plan holding the chosen weights, the very path `predict` takes, and that plan writes
 * best.safetensors and last.safetensors once, after the fit. The fit is deterministic, so `--resume` refits
 * from scratch (in well under a minute) rather than continuing: the checkpoint only has to name the model. */
async function fitLinear(
  baseSpec: ClassifierSpec,
  data: { readonly features: Float32Array; readonly labels: ArrayLike<number>; readonly split: SplitIndices },
  s: RunSettings,
  device: Device,
  progress: Progress,
  hooks: RunHooks,
): Promise<{ trained: Trained; penalty: PenaltySearch }> {
  const from = hooks.resume?.classifier;
  if (from && from.spec.architecture !== baseSpec.architecture) throw new Error(`${from.file}: holds a ${from.spec.architecture} classifier, not ${baseSpec.architecture}`);
  const model = buildClassifier(baseSpec);
  const width = elementCount(model.inputShape);
  const { split } = data;
  const grid = { values: LOGREG_L2_GRID, extendLow: LOGREG_L2_EXTEND_LOW, extendHigh: LOGREG_L2_EXTEND_HIGH };
  const search = await fitLinearModel(
    { features: data.features, width, labels: data.labels, split, target: s.target },
    grid,
    (plan) => executorFor(device, plan),
    LINEAR_FIT_DEFAULTS,
    (f) => progress.epoch(`${s.model} l2=${f.l2}`, historyOf(f, split.train.length).at(-1) as EpochRecord, f.iterations),
  );
  const best = search.best;
  const spec = withPenalty(baseSpec, best.l2);
  const batch = Math.min(s.batch, split.train.length);
  const cp = buildClassifierPlan(model, {
    genes: data.labels.length,
    batch,
    predictBatch: Math.min(256, data.labels.length),
    trainOrderLength: stepsPerEpoch(split.train.length, batch) * batch,
    optimizer: { lr: s.lr },
    seed: s.seed,
    target: s.target,
  });
  const exec = await executorFor(device, cp.plan);
  try {
    initialise(exec, cp, data, best.params);
    await exec.run(1, 'snapshot');
    const history = historyOf(best, split.train.length);
    // One checkpoint for the one finished fit: its "epoch" is the fit, not an iteration, so that --resume and
    // --epochs (which a linear model does not use) never see more epochs done than asked for.
    await hooks.checkpoints?.saveClassifier(exec, cp, spec, { epoch: 1, step: 0, rng: 0, bestEpoch: 1, bestAuroc: selectionScore(best.valid), history }, true);
    const target = s.target;
    const validLabels = Array.from(split.valid, (g) => data.labels[g] as number);
    const testLabels = Array.from(split.test, (g) => data.labels[g] as number);
    const validLogits = await predictLogits(exec, cp, split.valid);
    const testLogits = await predictLogits(exec, cp, split.test);
    const result: TrainResult = {
      history,
      bestEpoch: best.iterations,
      valid: scoresFor(target, validLabels, validLogits),
      test: scoresFor(target, testLabels, testLogits),
      target,
      testPredictions: predictionsOf(target, testLogits),
    };
    const penalty: PenaltySearch = {
      grid: search.records.map((r) => r.l2),
      validAuroc: search.records.map((r) => r.validScore),
      chosen: best.l2,
      fits: search.records,
      iterations: best.iterations,
      gradientNorm: best.gradientNorm,
      converged: best.converged,
      ...(search.penaltyAtEdge ? { penaltyAtEdge: search.penaltyAtEdge } : {}),
    };
    return { trained: { result, spec, parameters: model.store.count }, penalty };
  } finally {
    exec.destroy?.();
  }
}

/** The fit's iterates as epoch records: iteration i is "epoch" i (the start, iteration 0, only when the fit took no step). */
function historyOf(f: LinearFit, trainGenes: number): EpochRecord[] {
  const steps = f.trace.filter((t) => t.iteration > 0);
  return (steps.length > 0 ? steps : f.trace.slice(0, 1)).map((t) => ({
    epoch: t.iteration,
    trainLoss: t.objective,
    valid: t.valid,
    seconds: t.seconds,
    genesPerSecond: t.seconds > 0 ? trainGenes / t.seconds : 0,
  }));
}

/** What vae-joint and vae-m2 start from: the pool of unlabeled genes (train + valid) the VAE learnt from, which
 * vae-joint draws from, and the pretrained VAE's parameters with the spec of their layout. */
interface JointStart {
  readonly unlabeled: Uint32Array;
  readonly vaeParams: Float32Array;
  readonly vaeSpec: VaeSpec;
}

/** A weight of the loss a run may train several values of (each value its own model), keeping the best by the
 * validation score: vae-m2's α (as a multiple of N) and vae-joint's λ. */
export interface WeightSearch {
  /** The setting's name as the run's config has it. */
  readonly setting: 'alpha' | 'jointWeight';
  readonly values: readonly number[];
  /** Each value's best validation AUROC (or Pearson), in the order of `values`. */
  readonly validAuroc: readonly number[];
  /** The kept value: the highest validation score, the first of equal ones. */
  readonly chosen: number;
}

/** The index of the highest score, the first of equal ones (as logreg's penalty search, a tie keeps the earlier value). */
export function firstBest(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if ((scores[i] as number) > (scores[best] as number)) best = i;
  return best;
}

/** The weight `s` may search over, or undefined for a model without one. */
function searchedWeight(s: RunSettings): { readonly setting: WeightSearch['setting']; readonly values: readonly number[] } | undefined {
  if (isSemiSupervisedVae(s.model)) return { setting: 'alpha', values: s.alpha };
  if (trainsJointly(s.model)) return { setting: 'jointWeight', values: s.jointWeight };
  return undefined;
}

/** Writes a classifier checkpoint after an epoch of `epochs` (the default writer: after every epoch, best.safetensors when it improved). */
type ClassifierSaver = (exec: PlanExecutor, cp: ClassifierPlan, spec: ClassifierSpec, state: ClassifierState, epochs: number) => Promise<void>;

/** Trains one model per value, keeping the one of highest validation score (ties: the first). With one value it is
 * a plain run: a checkpoint after every epoch, and --resume continues it. With several, each value's last epoch
 * writes best.safetensors and last.safetensors when that value is the best so far, so the run directory ends
 * holding the kept model (predict reads it). Given hooks.weightValues (the experiment), each value checkpoints its
 * epochs there and its finished result is kept, so a resumed search continues where it stopped; without (a train
 * run), a resumed search trains every value again, from the same seed, to the same models (its VAE, though,
 * continues from its checkpoint). */
async function searchWeight(
  weights: { readonly setting: WeightSearch['setting']; readonly values: readonly number[] },
  spec: ClassifierSpec,
  train: (spec: ClassifierSpec, hooks: RunHooks, label: string, weight: number, save?: ClassifierSaver) => Promise<Trained>,
  model: string,
  hooks: RunHooks,
): Promise<{ trained: Trained; weightSearch: WeightSearch }> {
  const { setting, values } = weights;
  const symbol = setting === 'alpha' ? 'α' : 'λ';
  const validAuroc: number[] = [];
  let kept: { trained: Trained; index: number } | undefined;
  if (values.length === 1) {
    const trained = await train(spec, hooks, model, values[0] as number);
    kept = { trained, index: 0 };
    validAuroc.push(selectionScore(trained.result.valid));
  } else {
    const checkpoints = hooks.checkpoints;
    const store = hooks.weightValues;
    const { resume: _resume, checkpoints: _checkpoints, weightValues: _store, ...rest } = hooks;
    const noResume: RunHooks = { ...rest, ...(hooks.resume?.vae ? { resume: { vae: hooks.resume.vae } } : {}) };
    for (const [index, value] of values.entries()) {
      const save: ClassifierSaver | undefined = checkpoints
        ? async (exec, cp, sp, state, epochs) => {
            if (state.epoch === epochs && (kept === undefined || state.bestAuroc > (validAuroc[kept.index] as number))) await checkpoints.saveClassifier(exec, cp, sp, state, true);
          }
        : undefined;
      let trained = await store?.finished(index, value);
      if (!trained) {
        const at = await store?.value(index, value);
        const valueHooks: RunHooks = at
          ? { ...noResume, checkpoints: at.checkpoints, ...(at.resume ? { resume: { ...noResume.resume, classifier: at.resume } } : {}) }
          : noResume;
        trained = await train(spec, valueHooks, `${model} ${symbol}=${value}`, value, save);
        await store?.keep(index, value, trained);
      }
      validAuroc.push(selectionScore(trained.result.valid));
      if (firstBest(validAuroc) === index) kept = { trained, index };
    }
  }
  if (!kept) throw new Error(`${model}: no value of ${symbol} to train`);
  return { trained: kept.trained, weightSearch: { setting, values, validAuroc, chosen: values[kept.index] as number } };
}

/** Builds the classifier of `spec`, trains it (from scratch, or from hooks.resume) and scores it. */
async function trainClassifierSpec(
  spec: ClassifierSpec,
  data: { readonly features: Float32Array; readonly labels: ArrayLike<number>; readonly split: SplitIndices; readonly unlabeled?: Uint32Array },
  s: RunSettings,
  device: Device,
  progress: Progress,
  hooks: RunHooks,
  label: string,
  joint?: JointStart,
  /** vae-m2's α as a multiple of N, or vae-joint's λ: one value of its list. */
  weight?: number,
  save?: ClassifierSaver,
): Promise<Trained> {
  const jm = isJointSpec(spec) ? jointModel(spec.vae, spec.hidden) : undefined;
  const model = jm?.classifier ?? buildClassifier(spec);
  const { split } = data;
  const batch = Math.min(s.batch, split.train.length);
  const steps = stepsPerEpoch(split.train.length, batch);
  const planConfig = {
    genes: data.labels.length,
    batch,
    predictBatch: Math.min(256, data.labels.length),
    trainOrderLength: steps * batch,
    // --clip clips the model this run trains (its pretrained VAE, shared by a cell's vae-* runs, is not clipped).
    optimizer: { lr: s.lr, clip: s.clip },
    seed: s.seed,
    target: s.target,
  };
  let cp: ClassifierPlan;
  let epochs = s.epochs;
  let epochOrders: ReturnType<typeof m2EpochOrders> | undefined;
  let jointLoop: Pick<TrainLoopConfig, 'epochOrder' | 'elboLoss'> = {};
  if (jm) {
    if (!joint) throw new Error('vae-joint: no pretrained VAE and unlabeled genes were given');
    const unlabeledBatch = Math.min(s.batch, joint.unlabeled.length);
    const sizes = { batch, unlabeledBatch, steps };
    const { beta, sigma } = s;
    const jointWeight = weight ?? (s.jointWeight[0] as number);
    cp = buildJointPlan(jm, { ...planConfig, trainOrderLength: steps * (batch + unlabeledBatch), unlabeledBatch, beta, sigma, jointWeight });
    jointLoop = { epochOrder: (random) => jointEpochOrder(split.train, joint.unlabeled, sizes, random), elboLoss: JOINT_ELBO };
  } else if (isM2Spec(spec)) {
    // An M2 epoch is one pass over the unlabeled genes, as a VAE epoch is: --epochs of them after the pretrained
    // VAE's --vae-epochs, or with --m2-init random (no pretraining, as before) --vae-epochs of them.
    const unlabeled = data.unlabeled;
    if (!unlabeled || unlabeled.length === 0) throw new Error('vae-m2: no unlabeled genes to learn from (every train and valid gene is labeled)');
    if (s.sigma !== 'logvar') throw new Error(`vae-m2: its encoder has a log-variance head; --sigma ${s.sigma} is not supported`);
    // M2's pass over the unlabeled genes is a VAE epoch, at the VAE's minibatch; its labeled genes take --batch.
    const unlabeledBatch = Math.min(s.vaeBatch, unlabeled.length);
    const m2Steps = stepsPerEpoch(unlabeled.length, unlabeledBatch);
    const weights = m2Weights({
      labeledGenes: split.train.length,
      unlabeledGenes: unlabeled.length,
      labeledBatch: batch,
      unlabeledBatch,
      features: spec.bins * spec.marks,
      beta: s.beta,
      // Kingma's α as the multiple of N the command line gives (0.1·N by default).
      alpha: (weight ?? (s.alpha[0] as number)) * (split.train.length + unlabeled.length),
    });
    const mp = buildM2Plan(model as M2Model, { ...planConfig, trainOrderLength: m2Steps * batch, unlabeledBatch, steps: m2Steps, weights });
    cp = mp;
    epochs = s.m2Init === 'random' ? s.vaeEpochs : s.epochs;
    epochOrders = m2EpochOrders(mp, unlabeled, s.seed);
  } else {
    cp = buildClassifierPlan(model, planConfig);
  }
  const exec = await executorFor(device, cp.plan);
  const from = hooks.resume?.classifier;
  const checkpoints = hooks.checkpoints;
  try {
    if (from) {
      sameSpec(spec, from.spec, from.file);
      const { params, adamM, adamV, best } = from;
      if (!adamM || !adamV || !best) throw new Error(`${from.file}: has no optimizer state to resume from`);
      initialiseFrom(exec, cp, data, { params, adamM, adamV, best, step: from.state.step });
      progress.resumed?.({ phase: 'classifier', model: label, epochs, history: from.state.history });
    } else {
      const initial = model.store.initialValues(s.seed + 1);
      // vae-joint starts from the pretrained VAE (the head from the fresh values); vae-m2 from the VAE's weights
      // as m2FromVae.ts maps them (q(y|x)'s head fresh), unless --m2-init random gave it no VAE.
      if (jm && joint) initial.set(joint.vaeParams.subarray(0, jm.vaeTotal), 0);
      if (isM2Spec(spec) && joint) m2StartFromVae(model as M2Model, buildVae(joint.vaeSpec).store, joint.vaeParams, initial);
      initialise(exec, cp, data, initial);
    }
    const result = await trainClassifier(exec, cp, data, {
      ...jointLoop,
      epochs,
      seed: s.seed,
      onEpoch: (r) => progress.epoch(label, r, epochs),
      ...stepsOf(progress, 'classifier', label, epochs),
      ...(epochOrders ? { epochOrders } : {}),
      ...(from ? { resume: from.state } : {}),
      // A value of a weight search both checkpoints its own epochs (where the search keeps them) and, when best,
      // writes the run's kept model (save).
      ...(save || checkpoints
        ? {
            afterEpoch: async (state: ClassifierState, improved: boolean) => {
              await checkpoints?.saveClassifier(exec, cp, spec, state, improved);
              await save?.(exec, cp, spec, state, epochs);
            },
          }
        : {}),
    });
    return { result, spec, parameters: model.store.count };
  } finally {
    exec.destroy?.();
  }
}
