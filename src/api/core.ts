import {
  type ClassifierCheckpoint,
  type RunInfo,
  type VaeCheckpoint,
  classifierCheckpointFrom,
  fineTunedVae,
  modelWindow,
  vaeCheckpointFrom,
} from '../checkpoint/checkpointFormat.ts';
import { datasetFingerprintWith } from '../checkpoint/datasetDigest.ts';
import { MemoryCheckpoints } from '../checkpoint/memoryCheckpoints.ts';
import { decodeSafetensorsWith } from '../checkpoint/safetensorsCodec.ts';
import { nearestFlags } from '../util/didYouMean.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Layout } from '../data/loadCell.ts';
import { DEFAULT_NORMALIZATION, NORMALIZATION_SCHEMES, type NormalizationScheme, type NormalizationStats, applyNormalization, fitNormalization } from '../data/normalize.ts';
import { MODEL_NAMES, attentionMapsOf, noAttentionMaps, trainsJointly, usesVae } from '../models/registry.ts';
import {
  type AttentionMapsOf,
  type PredictSources,
  type TrainedModel,
  latentMeans,
  nonFiniteOutputs,
  predictOutputs,
  predictWithAttention,
} from '../train/predictWith.ts';
import { ATTRIBUTION_METHODS, type AttributionMethod, type Explanation, type MeanMap, explainWith, meanAttributionMaps } from '../train/explain.ts';
import { type ExplainedAttention, explainedAttention } from '../train/explainAttention.ts';
import { labeledCount } from '../train/prepare.ts';
import { RUN_FLAGS, RUN_KEYS, SettingError, oneOf, withModelDefaults } from '../train/runFlags.ts';
import { settingOutOfScope } from '../train/settingScope.ts';
import { type Device, type Progress, type RunOutcome, runModel } from '../train/runModel.ts';
import { RUN_DEFAULTS, type RunSettings } from '../train/runSettings.ts';
import { type SplitScore, scoresBySplit } from '../train/splitScores.ts';
import { type Scores, type Target, predictionsOf } from '../train/target.ts';
import { jsSha256 } from '../util/sha256.ts';

// The programmatic API's browser-safe core: train, predict and encode on a cell already read, through the
// training core the command line runs (runModel, predictWith), on the device the caller gives. Nothing here
// touches a file or a Node module, so the page's bundle takes it (test/api.test.ts bundles it for the browser);
// src/api/index.ts, the package's entry, adds what needs Node: a cell read from a path, Dawn's GPU, sources on
// disk, and a run directory written as `train --out` writes it.

/** A cell's genes as read (not normalised: training fits the normalisation on its training genes, predict and
 * encode apply the model's), with where they came from. */
export interface Cell {
  readonly dataset: Dataset;
  readonly layout: Layout;
  /** The path it was read from (loadCell); a run directory records it. */
  readonly path?: string;
}

/** A trained model as predict and encode take it: its classifier (and VAE), settings and normalisation. */
export type Model = TrainedModel<ClassifierCheckpoint, VaeCheckpoint>;

/** One training run's result. */
export interface Trained {
  readonly cell: string;
  readonly settings: RunSettings;
  readonly normalize: NormalizationScheme;
  /** Fitted on the cell's training genes; predict applies them to every cell it is given. */
  readonly normalization: NormalizationStats;
  /** Scores at the best epoch (AUROC, AUPR, accuracy; or Pearson, Spearman, MSE for target 'expression'). */
  readonly valid: Scores;
  readonly test: Scores;
  readonly bestEpoch: number;
  /** Everything runModel returns: each epoch's record, the split, test predictions, the VAE's history, ... */
  readonly run: RunOutcome;
  readonly model: Model;
}

/** What a run is told beyond its settings. */
export interface RunOptions {
  /** How the marks are scaled before training (the command line's --normalize). */
  readonly normalize?: NormalizationScheme;
  /** Called after each epoch (and step, where given); silent when absent. */
  readonly progress?: Partial<Progress>;
  /** Neighbour genes and the expression table, for the models that read them. */
  readonly sources?: PredictSources;
}

/** An attention model's weights for every gene (in the cell's order), row-major: `marks` [genes, marks] and
 * `bins` [genes, marks, bins], the marks in `markNames` order; every mark-level row and every (gene, mark) row of
 * bins sums to 1. */
export interface AttentionMaps extends AttentionMapsOf {
  readonly markNames: readonly string[];
  readonly binCount: number;
}

/** train's options: any run setting (RunSettings; those not given take RUN_DEFAULTS), and the device. */
export interface TrainOptions extends Partial<RunSettings>, RunOptions {
  /** `{ kind: 'cpu' }` (the default here: a page passes its GPU, `{ kind: 'gpu', gpu: await acquireBrowserGpu() }`). */
  readonly device?: Device;
}

export interface UseOptions {
  readonly device?: Device;
  readonly sources?: PredictSources;
  /** predict: also return the attention maps of a model with attention layers (Predictions.attention), from the
   * same pass; refused for a model without them. */
  readonly attention?: boolean;
}

/** A model's output for every gene of a cell, in the cell's order. */
export interface Predictions {
  readonly cell: string;
  readonly geneIds: readonly string[];
  readonly target: Target;
  /** P(high expression) per gene, or predicted log10(RPKM + 1) for a model trained on target 'expression'. */
  readonly values: Float32Array;
  /** Scored against the cell's labels (or its observed expression, when it carries it), split by split. */
  readonly scores?: readonly SplitScore[];
  /** With UseOptions.attention. */
  readonly attention?: AttentionMaps;
}

/** The VAE's latent means of every gene of a cell. */
export interface Latents {
  readonly cell: string;
  readonly geneIds: readonly string[];
  /** Latent width: `means` is [genes, latent], row-major. */
  readonly latent: number;
  readonly means: Float32Array;
}

const OPTION_KEYS = ['normalize', 'progress', 'sources', 'device'] as const;

/** A setting's value as its flag is typed, so that the one parser of each setting (runFlags.ts) checks it. */
function asTyped(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  return typeof v === 'number' || typeof v === 'string' ? String(v) : JSON.stringify(v) ?? String(v);
}

/** The run settings among `given`, over RUN_DEFAULTS and `sources`, each checked by its flag's parser; a key that is
 * neither a setting nor one of `options` is refused (with the name it was likely meant to be). */
export function runSettingsOf(
  given: object,
  options: readonly string[],
  sources: { readonly annotation: string; readonly expressionTable: string },
): RunSettings {
  const values = given as Readonly<Record<string, unknown>>;
  const known = [...RUN_KEYS, 'annotation', 'expressionTable', ...options];
  for (const key of Object.keys(values)) {
    if (known.includes(key)) continue;
    const near = nearestFlags(key, known);
    throw new SettingError(`unknown setting "${key}"${near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : ''}; the settings are ${known.join(', ')}`);
  }
  const settings: Record<string, unknown> = { ...RUN_DEFAULTS, ...sources };
  for (const key of RUN_KEYS) if (values[key] !== undefined) settings[key] = RUN_FLAGS[key].parse(asTyped(values[key]), key);
  // The model's own training defaults where not given, and a setting split off an older one following it (vaeBatch
  // is batch's), as on the command line.
  Object.assign(settings, withModelDefaults(settings as unknown as RunSettings, (k) => values[k] !== undefined));
  // A setting the model would ignore is refused, as the command line refuses its flag (k on an mlp run).
  const run = settings as unknown as RunSettings;
  const outOfScope = settingOutOfScope({
    models: [run.model],
    given: RUN_KEYS.filter((k) => values[k] !== undefined),
    m2Init: run.m2Init,
    target: run.target,
    what: `model ${run.model}`,
    nameOf: (key) => key,
  });
  if (outOfScope !== undefined) throw new SettingError(outOfScope);
  for (const key of ['annotation', 'expressionTable']) {
    const v = values[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new SettingError(`${key} needs a path, got ${JSON.stringify(v)}`);
    settings[key] = v;
  }
  return settings as unknown as RunSettings;
}

/** What every checkpoint of the run carries, as the command line writes it (storeSettings), so that `predict`
 * reads a run trained here. */
export function runInfoFor(cell: Cell, settings: RunSettings, normalize: NormalizationScheme, normalization: NormalizationStats, device: Device): RunInfo {
  const raw = cell.dataset;
  const path = cell.path ?? raw.source.join(',');
  const adapter = device.kind === 'gpu' ? device.gpu.adapterName : 'CPU reference path';
  return {
    runId: crypto.randomUUID(),
    modelName: settings.model,
    settings: { ...settings, trainSize: settings.trainSize ?? null, normalize, device: device.kind, data: path, adapter },
    normalization,
    data: { cell: raw.cell, path, layout: cell.layout, genes: raw.genes, bins: raw.bins, marks: [...raw.marks], fingerprint: datasetFingerprintWith(jsSha256, raw) },
  };
}

const silent = (): void => {};

/** A caller's progress hooks, the missing ones silent. */
export function progressOf(p: Partial<Progress> = {}): Progress {
  return { epoch: p.epoch?.bind(p) ?? silent, vaeEpoch: p.vaeEpoch?.bind(p) ?? silent, ...(p.steps ? { steps: p.steps.bind(p) } : {}) };
}

/** The trained model in a run's checkpoints, as `predict` reads it from a run directory (and the page from the run
 * it trained). */
export function modelOfCheckpoints(files: MemoryCheckpoints, settings: RunSettings, normalization: NormalizationStats): Model {
  const best = files.file('best');
  if (best === undefined) throw new Error(`${settings.model}: the run kept no model (no best epoch was saved)`);
  const classifier = classifierCheckpointFrom(decodeSafetensorsWith(jsSha256, best.bytes, best.name), best.name, 'best');
  const v = files.file('vae');
  let vae = v === undefined ? undefined : vaeCheckpointFrom(decodeSafetensorsWith(jsSha256, v.bytes, v.name), v.name);
  if (vae && trainsJointly(settings.model)) vae = fineTunedVae(vae, classifier);
  return { classifier, ...(vae ? { vae } : {}), modelName: settings.model, settings, normalization };
}

/** One run on `cell` with settings already checked (runSettingsOf): the normalisation fitted on its training genes,
 * the model trained by runModel, its checkpoints kept in memory. */
export async function trainWith(cell: Cell, settings: RunSettings, device: Device, options: RunOptions = {}): Promise<Trained> {
  const raw = cell.dataset;
  labeledCount(settings.trainSize, raw, 'trainSize');
  const normalize = oneOf('normalize', options.normalize ?? DEFAULT_NORMALIZATION, NORMALIZATION_SCHEMES);
  const normalization = fitNormalization(raw, normalize);
  const ds = applyNormalization(raw, normalization);
  const checkpoints = new MemoryCheckpoints(runInfoFor(cell, settings, normalize, normalization, device), jsSha256);
  const run = await runModel(ds, settings, device, progressOf(options.progress), undefined, { checkpoints, ...options.sources });
  const r = run.result;
  return {
    cell: raw.cell,
    settings,
    normalize,
    normalization,
    valid: r.valid,
    test: r.test,
    bestEpoch: r.bestEpoch,
    run,
    model: modelOfCheckpoints(checkpoints, settings, normalization),
  };
}

/** Trains one model on `cell` (see TrainOptions), on the CPU unless `device` says otherwise. */
export function train(cell: Cell, options: TrainOptions = {}): Promise<Trained> {
  const settings = runSettingsOf(options, OPTION_KEYS, { annotation: '', expressionTable: '' });
  return trainWith(cell, settings, options.device ?? { kind: 'cpu' }, options);
}

const modelOf = (m: Trained | Model): Model => ('run' in m ? m.model : m);

/** The cell normalised as the model's training data was; its window must be the model's. */
function prepared(m: Model, cell: Cell): Dataset {
  const raw = cell.dataset;
  const { bins, marks } = modelWindow(m);
  if (raw.bins !== bins || raw.marks.length !== marks) {
    throw new Error(`${raw.cell} has ${raw.bins} bins × ${raw.marks.length} marks per gene, the ${m.modelName} model takes ${bins} × ${marks}`);
  }
  return applyNormalization(raw, m.normalization);
}

/** The model's prediction for every gene of `cell`, as `predict` makes it. */
export async function predict(model: Trained | Model, cell: Cell, options: UseOptions = {}): Promise<Predictions> {
  const m = modelOf(model);
  const ds = prepared(m, cell);
  const device = options.device ?? { kind: 'cpu' };
  const pass = options.attention ? await predictWithAttention(m, ds, device, options.sources) : { outputs: await predictOutputs(m, ds, device, options.sources) };
  const { outputs } = pass;
  const overflow = nonFiniteOutputs(outputs, ds);
  if (overflow !== undefined) throw new Error(`predict: the ${m.modelName} model ${overflow}`);
  const target = m.settings.target;
  const observed = target === 'class' ? ds.labels : ds.expression;
  return {
    cell: ds.cell,
    geneIds: ds.geneIds,
    target,
    values: predictionsOf(target, outputs),
    ...(observed ? { scores: scoresBySplit(target, ds, observed, outputs) } : {}),
    ...('attention' in pass ? { attention: { ...pass.attention, markNames: ds.marks, binCount: ds.bins } } : {}),
  };
}

/** The latent means the model's VAE gives every gene of `cell`, as `encode` computes them. */
export async function encode(model: Trained | Model, cell: Cell, options: UseOptions = {}): Promise<Latents> {
  const m = modelOf(model);
  const vae = m.vae;
  if (!vae) throw new Error(`encode needs a model with a VAE (${MODEL_NAMES.filter(usesVae).join(', ')}); this is a ${m.modelName} model`);
  const ds = prepared(m, cell);
  const means = await latentMeans(ds, vae, m.settings, options.device ?? { kind: 'cpu' });
  return { cell: ds.cell, geneIds: ds.geneIds, latent: vae.spec.latent, means };
}

export interface ExplainOptions extends UseOptions {
  /** Default 'integrated-gradients' (from the all-zero window, the midpoint rule). */
  readonly method?: AttributionMethod;
  /** Integrated gradients' steps; default 50. */
  readonly steps?: number;
  /** Gene ids of the cell to explain; default every gene. */
  readonly genes?: readonly string[];
  /** A model with attention layers: its attention for the same genes (Attributions.attention), unless false; true
   * refuses a model without them. */
  readonly attention?: boolean;
}

/** Each explained gene's attributions (src/train/explain.ts says what each method's number is), with the mean maps
 * over its expressed and silent genes. */
export interface Attributions extends Explanation {
  readonly cell: string;
  /** The explained genes' ids, in the order of `attributions`' rows. */
  readonly geneIds: readonly string[];
  readonly markNames: readonly string[];
  readonly expressed: MeanMap;
  readonly silent: MeanMap;
  /** A model with attention layers (attentivechrome): its attention for the same genes, from predict's pass, with
   * the means over their expressed and silent genes; absent for other models, or with `attention: false`. */
  readonly attention?: ExplainedAttention;
}

/** The attribution of each value of the genes' windows to the model's output, as `explain` computes it. */
export async function explain(model: Trained | Model, cell: Cell, options: ExplainOptions = {}): Promise<Attributions> {
  const m = modelOf(model);
  const ds = prepared(m, cell);
  let genes = Uint32Array.from({ length: ds.genes }, (_, g) => g);
  if (options.genes !== undefined) {
    const missing = options.genes.filter((id) => !ds.geneIds.includes(id));
    if (missing.length > 0) throw new Error(`explain: ${missing.join(', ')} not among the ${ds.genes} genes of ${ds.cell}`);
    genes = Uint32Array.from(options.genes, (id) => ds.geneIds.indexOf(id));
  }
  const method = oneOf('method', options.method ?? 'integrated-gradients', ATTRIBUTION_METHODS);
  if (options.attention === true && attentionMapsOf(m.modelName) === undefined) throw new Error(`explain with attention: ${noAttentionMaps(m.modelName)}`);
  const device = options.device ?? { kind: 'cpu' };
  const e = await explainWith(m, ds, genes, { method, steps: options.steps ?? 50 }, device, options.sources);
  const attention = options.attention === false ? undefined : await explainedAttention(m, ds, genes, device, options.sources);
  return {
    ...e,
    cell: ds.cell,
    geneIds: Array.from(genes, (g) => ds.geneIds[g] as string),
    markNames: ds.marks,
    ...meanAttributionMaps(e, ds.labels),
    ...(attention ? { attention } : {}),
  };
}

export { acquireBrowserGpu } from '../gpu/browserGpu.ts';
export { RUN_DEFAULTS, type RunSettings } from '../train/runSettings.ts';
export { SettingError } from '../train/runFlags.ts';
export type { Device, Progress, RunOutcome } from '../train/runModel.ts';
export type { Scores, ClassScores, ExpressionScores, Target } from '../train/target.ts';
export type { SplitScore } from '../train/splitScores.ts';
export type { EpochRecord } from '../train/trainClassifier.ts';
export type { Dataset } from '../data/dataset.ts';
export type { NormalizationScheme, NormalizationStats } from '../data/normalize.ts';
export type { ModelName } from '../models/registry.ts';
export type { AttributionMethod, Explanation, MeanMap } from '../train/explain.ts';
export type { ExplainedAttention, MeanAttention } from '../train/explainAttention.ts';
