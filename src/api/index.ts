import { type CliOptions, DEFAULTS } from '../cli/flags/args.ts';
import { type DeviceChoice, deviceFor, trainToDirectory } from '../cli/run/trainRun.ts';
import { DEFAULT_ANNOTATION, DEFAULT_EXPRESSION_TABLE } from '../cli/session/dataSource.ts';
import { DISK_SOURCES } from '../cli/session/neighborSources.ts';
import { readModelDirectory } from '../cli/use/useModel.ts';
import { expressionTargets } from '../data/expressionTargets.ts';
import { type LoadCellOptions, loadCell as readCell } from '../data/loadCell.ts';
import { RUN_KEYS } from '../train/runFlags.ts';
import type { Device } from '../train/runModel.ts';
import type { RunSettings } from '../train/runSettings.ts';
import * as core from './core.ts';
import type { Attributions, Cell, Latents, Model, Predictions, RunOptions, Trained } from './core.ts';

// The package's entry (`import { loadCell, train, predict, encode } from 'simplechrome'`): the browser-safe core
// (core.ts) with what Node adds, so that a script gets what the command line gives: cells read from a path in
// any layout the command line reads, Dawn's GPU (or the CPU reference path), neighbour genes and the expression
// table from ../shared/datasets, a run directory read by path, and with `out`, the very run directory
// `train --out` writes (trainToDirectory). docs/USING.md §8.

/** The device as a script names it: 'gpu' (Dawn, as the command line's default) or 'cpu' (the reference path,
 * bit for bit the command line's --cpu), or one already acquired. */
export type DeviceOption = 'gpu' | 'cpu' | Device;

export interface NodeTrainOptions extends Partial<RunSettings>, RunOptions {
  readonly device?: DeviceOption;
  /** Write the run into this directory as `train --out DIR` does: checkpoints, metrics.json, predictions.csv, plots. */
  readonly out?: string;
  /** With `out`: replace the run that directory holds (--overwrite); without it a finished run there is refused. */
  readonly overwrite?: boolean;
}

export interface NodeUseOptions {
  readonly device?: DeviceOption;
}

export interface TrainedRun extends Trained {
  /** With `out`: the run directory and the files written there. */
  readonly out?: string;
  readonly files?: readonly string[];
}

const NODE_OPTIONS = ['normalize', 'progress', 'sources', 'device', 'out', 'overwrite'] as const;

/** Reads a cell from a path in any layout the command line reads (DeepChrome, AttentiveChrome, GC-MERGE, bigWig
 * tracks), through the same binary cache. */
export async function loadCell(path: string, options: LoadCellOptions = {}): Promise<Cell> {
  const loaded = await readCell(path, options);
  return { dataset: loaded.dataset, layout: loaded.layout, path };
}

/** The device, acquired for one call and released after it (unless the caller acquired it). */
async function withDevice<T>(option: DeviceOption | undefined, use: (choice: DeviceChoice) => Promise<T>): Promise<T> {
  if (typeof option === 'object') {
    return use({ device: option, name: option.kind === 'gpu' ? option.gpu.adapterName : 'CPU reference path', release: () => {} });
  }
  if (option !== undefined && option !== 'gpu' && option !== 'cpu') throw new core.SettingError(`device must be 'gpu', 'cpu' or an acquired device; got ${JSON.stringify(option)}`);
  const choice = await deviceFor(option ?? 'gpu');
  try {
    return await use(choice);
  } finally {
    choice.release();
  }
}

/** The cell with the observed expression a run of target 'expression' trains towards, read as the command line reads it. */
async function withExpression(cell: Cell, s: RunSettings): Promise<Cell> {
  if (s.target !== 'expression' || cell.dataset.expression) return cell;
  return { ...cell, dataset: { ...cell.dataset, expression: await expressionTargets(cell.dataset, cell.layout, s.expressionTable) } };
}

/** Trains one model on `cell`: in memory, or with `out` into a run directory exactly as `train --out` does. */
export async function train(cell: Cell, options: NodeTrainOptions = {}): Promise<TrainedRun> {
  const settings = core.runSettingsOf(options, NODE_OPTIONS, { annotation: DEFAULT_ANNOTATION, expressionTable: DEFAULT_EXPRESSION_TABLE });
  if (options.out !== undefined) return trainInto(options.out, cell, settings, options);
  const given = await withExpression(cell, settings);
  return withDevice(options.device, (choice) => core.trainWith(given, settings, choice.device, { ...options, sources: options.sources ?? DISK_SOURCES }));
}

/** The run through the command line's own trainToDirectory, so the directory is the one `train --out` leaves. */
async function trainInto(out: string, cell: Cell, settings: RunSettings, options: NodeTrainOptions): Promise<TrainedRun> {
  if (cell.path === undefined) throw new core.SettingError(`out ${out}: a run directory records the data's path; read the cell with loadCell(path)`);
  if (options.sources !== undefined || settings.annotation !== DEFAULT_ANNOTATION || settings.expressionTable !== DEFAULT_EXPRESSION_TABLE) {
    throw new core.SettingError(`out ${out}: a run directory is trained on the command line's own sources; leave sources, annotation and expressionTable unset`);
  }
  if (options.device !== undefined && typeof options.device !== 'string') throw new core.SettingError(`out ${out}: give the device as 'gpu' or 'cpu'`);
  const picked = Object.fromEntries(RUN_KEYS.map((k) => [k, settings[k]]));
  const o: CliOptions = {
    ...DEFAULTS,
    ...picked,
    neighborKinds: [settings.neighbors],
    device: options.device ?? 'gpu',
    data: cell.path,
    out,
    overwrite: options.overwrite ?? false,
    normalize: options.normalize ?? DEFAULTS.normalize,
    quiet: true,
  };
  const outcome = await trainToDirectory(o, { progress: core.progressOf(options.progress) });
  const r = outcome.run.result;
  const model = await readModelDirectory(outcome.out, 'classifier');
  return {
    cell: outcome.data.dataset.cell,
    settings: model.settings,
    normalize: o.normalize,
    normalization: outcome.data.normalization,
    valid: r.valid,
    test: r.test,
    bestEpoch: r.bestEpoch,
    run: outcome.run,
    model,
    out: outcome.out,
    files: outcome.files,
  };
}

/** A model given as a run directory (what `train --out` wrote), read as `predict --model DIR` reads it. */
async function modelFrom(model: Trained | Model | string, need: 'classifier' | 'vae'): Promise<Trained | Model> {
  return typeof model === 'string' ? readModelDirectory(model, need) : model;
}

/** The model's prediction for every gene of `cell`: a Trained result, a model, or a run directory's path. */
export async function predict(model: Trained | Model | string, cell: Cell, options: NodeUseOptions = {}): Promise<Predictions> {
  const m = await modelFrom(model, 'classifier');
  return withDevice(options.device, (choice) => core.predict(m, cell, { device: choice.device, sources: DISK_SOURCES }));
}

/** The VAE's latent means of every gene of `cell` (a vae-* model, or its run directory's path). */
export async function encode(model: Trained | Model | string, cell: Cell, options: NodeUseOptions = {}): Promise<Latents> {
  const m = await modelFrom(model, 'vae');
  return withDevice(options.device, (choice) => core.encode(m, cell, { device: choice.device }));
}

/** The attribution of each value of the genes' windows to the model's output (`explain`'s numbers, without its
 * files): a Trained result, a model, or a run directory's path. */
export async function explain(model: Trained | Model | string, cell: Cell, options: NodeExplainOptions = {}): Promise<Attributions> {
  const m = await modelFrom(model, 'classifier');
  const { device, ...rest } = options;
  return withDevice(device, (choice) => core.explain(m, cell, { ...rest, device: choice.device, sources: DISK_SOURCES }));
}

export type NodeExplainOptions = NodeUseOptions & Omit<core.ExplainOptions, 'device' | 'sources'>;

export { main } from '../cli/main.ts';
export { RUN_DEFAULTS, SettingError } from './core.ts';
export type {
  AttributionMethod,
  Attributions,
  Cell,
  ClassScores,
  Dataset,
  Device,
  EpochRecord,
  ExpressionScores,
  Explanation,
  Latents,
  MeanMap,
  Model,
  ModelName,
  NormalizationScheme,
  NormalizationStats,
  Predictions,
  Progress,
  RunOptions,
  RunOutcome,
  RunSettings,
  Scores,
  SplitScore,
  Target,
  Trained,
} from './core.ts';
export type { LoadCellOptions } from '../data/loadCell.ts';
