import { type NormalizationStats, parseNormalization } from '../data/normalize.ts';
import { MODEL_NAMES, type ModelName, classifierSpecFor, isModelName } from '../models/registry.ts';
import type { VaeModel } from '../models/vae.ts';
import { ADAM_M, ADAM_V, PARAMS, type ParameterStore } from '../nn/parameters.ts';
import type { Executor } from '../plan/executor.ts';
import { type ClassifierPlan, type Model, T } from '../train/classifierPlan.ts';
import type { ClassifierState, EpochRecord } from '../train/trainClassifier.ts';
import type { VaeEpochRecord, VaeState } from '../train/trainVae.ts';
import { V, type VaePlan } from '../train/vaePlan.ts';
import type { CheckpointSink } from '../train/checkpointSink.ts';
import type { StoredClassifier, StoredVae } from '../train/storedModel.ts';
import {
  type ClassifierSpec,
  type VaeSpec,
  buildClassifier,
  buildVae,
  checkClassifierSpec,
  checkVaeSpec,
  inputBins,
  isJointSpec,
} from '../models/modelSpec.ts';
import { CheckpointError, type NamedTensor, type SafetensorsFile } from './safetensorsCodec.ts';
import { nonFinite, notFiniteCount } from '../util/nonFinite.ts';

// The checkpoint files of one run directory, all safetensors:
//   best.safetensors   the classifier at its best validation epoch: weights only
//   last.safetensors   the classifier after its latest finished epoch, with what
//                      resuming needs: weights, "adam.m.<name>", "adam.v.<name>",
//                      "best.<name>" (the best epoch's weights, kept on the device)
//   vae.safetensors    the VAE of the vae-* models after its latest finished
//                      epoch: weights and Adam moments (encode and predict use the weights)
// Every file's __metadata__ carries the run (settings, normalization, data
// fingerprint, model sizes) so any one of them is enough to use the model.
// This module is the format, free of the file system (the page writes and
// reads it too); runCheckpoint.ts puts it in files.

export const FORMAT = 'simplechrome-checkpoint-1';
export const FILES = { best: 'best.safetensors', last: 'last.safetensors', vae: 'vae.safetensors' } as const;
export type Role = keyof typeof FILES;

export const WEIGHT_LAYOUT =
  'float32, little-endian. Dense "<layer>.weight" is [in, out] (y = x·W + b; PyTorch Linear stores [out, in]: transpose). ' +
  'Conv1d "<layer>.weight" is [kernel, in, out] over channels-last input [bins, channels] (PyTorch Conv1d: [out, in, kernel]). ' +
  'Transposed conv "<layer>.weight" is [kernel, out, in]. Biases are [out].';

export interface DataInfo {
  readonly cell: string;
  readonly path: string;
  readonly layout: string;
  readonly genes: number;
  readonly bins: number;
  readonly marks: readonly string[];
  /** datasetFingerprint of the data as read, before normalization. */
  readonly fingerprint: string;
}

/** What every file of one run shares. `settings` is the command line's, as JSON. */
export interface RunInfo {
  readonly runId: string;
  readonly modelName: ModelName;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly normalization: NormalizationStats;
  readonly data: DataInfo;
  /** The GEMM variant of every kernel that ran on the GPU (problem key → variant), read
   * when each file is written (the plans are built after the run starts); a resumed run
   * pins them so it ends exactly as an uninterrupted one would. */
  readonly gemmVariants?: () => Readonly<Record<string, string>>;
}

/** A classifier checkpoint: what a run resumes or predicts from (StoredClassifier, train's view), the role of its
 * file and the run it belongs to. Its flat buffers are in the model's layout (padding zero). */
export interface ClassifierCheckpoint extends StoredClassifier {
  readonly role: 'best' | 'last';
  readonly info: RunInfo;
}

/** A VAE checkpoint: StoredVae (train's view) and the run it belongs to. */
export interface VaeCheckpoint extends StoredVae {
  readonly info: RunInfo;
}

function toF32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** One named tensor per parameter, cut out of a flat buffer. */
export function flatToTensors(store: ParameterStore, flat: ArrayLike<number>, prefix = ''): NamedTensor[] {
  const f = toF32(flat);
  return store.parameters.map((p) => ({ name: `${prefix}${p.name}`, shape: p.shape, data: f.slice(p.offset, p.offset + p.size) }));
}

/** The flat buffer from one named tensor per parameter; names the file, the tensor and both shapes when they differ. */
export function tensorsToFlat(store: ParameterStore, file: SafetensorsFile, path: string, prefix = ''): Float32Array {
  const out = new Float32Array(store.total);
  for (const p of store.parameters) {
    const name = `${prefix}${p.name}`;
    const t = file.tensors.get(name);
    if (!t) throw new CheckpointError(path, `no tensor "${name}" (the model has it)`);
    if (t.dtype !== 'F32') throw new CheckpointError(path, `tensor "${name}" is ${t.dtype}, expected F32`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new CheckpointError(path, `tensor "${name}" has shape [${t.shape.join(', ')}], the model expects [${p.shape.join(', ')}]`);
    }
    refuseNonFinite(t.data, path, name);
    out.set(t.data, p.offset);
  }
  return out;
}

/** A weight that is NaN or ±Infinity passes the checksum (it was written so) but no training writes it: the file is
 * refused before any of it is used, naming the tensor. */
export function refuseNonFinite(data: ArrayLike<number>, path: string, tensor: string): void {
  const bad = nonFinite(data);
  if (bad !== undefined) {
    throw new CheckpointError(
      path,
      `tensor "${tensor}" holds ${bad.value} at index ${bad.first} (${notFiniteCount(bad.count)}); no training writes such a value: the file was damaged or edited, and is not used`,
    );
  }
}

export function commonMetadata(info: RunInfo, role: Role, spec: ClassifierSpec | VaeSpec): Record<string, string> {
  return {
    format: FORMAT,
    role,
    run_id: info.runId,
    model_name: info.modelName,
    model: JSON.stringify(spec),
    settings: JSON.stringify(info.settings),
    normalization: JSON.stringify(info.normalization),
    data: JSON.stringify(info.data),
    layout: WEIGHT_LAYOUT,
    gemm_variants: JSON.stringify(info.gemmVariants?.() ?? {}),
  };
}

/** What a training run saves after every epoch (the sink src/train/checkpointSink.ts declares), and where it
 * goes: files in a run directory (RunCheckpoints), or memory in the page. */
export abstract class CheckpointWriter implements CheckpointSink {
  constructor(readonly info: RunInfo) {}

  /** Stores one checkpoint file's tensors and metadata under its role. */
  protected abstract put(role: Role, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Promise<void>;

  /** After each checkpoint stored: `role` is the one to continue from. */
  protected abstract saved(role: 'vae' | 'last', phase: 'VAE' | 'classifier', epoch: number): void;

  /** After each VAE epoch: weights, moments and counters of the VAE. */
  async saveVae(exec: Executor, vp: VaePlan, spec: VaeSpec, state: VaeState): Promise<void> {
    const store = vp.model.store;
    const [params, m, v, step] = [await exec.read(PARAMS), await exec.read(ADAM_M), await exec.read(ADAM_V), await exec.read(V.step)];
    if ((step[0] as number) !== state.step) throw new Error(`vae checkpoint: step counter ${step[0]} on the device, ${state.step} expected`);
    await this.put(
      'vae',
      [...flatToTensors(store, params), ...flatToTensors(store, m, 'adam.m.'), ...flatToTensors(store, v, 'adam.v.')],
      { ...commonMetadata(this.info, 'vae', spec), ...vaeStateMetadata(state) },
    );
    this.saved('vae', 'VAE', state.epoch);
  }

  /** After each classifier epoch: last.safetensors, and best.safetensors when this epoch is the new best. */
  async saveClassifier(exec: Executor, cp: ClassifierPlan, spec: ClassifierSpec, state: ClassifierState, improved: boolean): Promise<void> {
    const store = cp.model.store;
    const params = await exec.read(PARAMS);
    const best = await exec.read(T.best);
    const m = await exec.read(ADAM_M);
    const v = await exec.read(ADAM_V);
    const step = await exec.read(T.step);
    if ((step[0] as number) !== state.step) throw new Error(`classifier checkpoint: step counter ${step[0]} on the device, ${state.step} expected`);
    const meta = classifierStateMetadata(state);
    // best first: a crash between the two writes leaves a last.safetensors
    // whose best epoch is never newer than best.safetensors.
    if (improved) await this.put('best', flatToTensors(store, best), { ...commonMetadata(this.info, 'best', spec), ...meta });
    await this.put(
      'last',
      [
        ...flatToTensors(store, params),
        ...flatToTensors(store, m, 'adam.m.'),
        ...flatToTensors(store, v, 'adam.v.'),
        ...flatToTensors(store, best, 'best.'),
      ],
      { ...commonMetadata(this.info, 'last', spec), ...meta },
    );
    this.saved('last', 'classifier', state.epoch);
  }
}

/** Reads the metadata every file carries; `path` names the file in errors. */
function readInfo(file: SafetensorsFile, path: string, role: Role): { info: RunInfo; spec: unknown } {
  const fail = (what: string): never => {
    throw new CheckpointError(path, what);
  };
  const meta = file.metadata;
  if (meta.format !== FORMAT) fail(`format is ${JSON.stringify(meta.format)}, expected "${FORMAT}" (not a simplechrome checkpoint?)`);
  if (meta.role !== role) fail(`holds a "${meta.role}" checkpoint, expected "${role}"`);
  const json = (key: string): unknown => {
    const text = meta[key];
    if (text === undefined) return fail(`metadata has no "${key}"`);
    try {
      return JSON.parse(text);
    } catch (e) {
      return fail(`metadata "${key}" is not JSON (${(e as Error).message})`);
    }
  };
  const settings = json('settings');
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) fail('metadata "settings" is not an object');
  const data = json('data') as DataInfo;
  if (typeof data !== 'object' || data === null || typeof data.fingerprint !== 'string' || typeof data.cell !== 'string') fail('metadata "data" is incomplete');
  const normalization = parseNormalization(meta.normalization ?? '', `${path} (normalization)`);
  if (typeof meta.run_id !== 'string' || typeof meta.model_name !== 'string') fail('metadata has no run_id or model_name');
  // A name this version does not know is refused rather than built as some other model.
  if (!isModelName(meta.model_name as string)) fail(`model_name ${JSON.stringify(meta.model_name)} is not a model this version knows (${MODEL_NAMES.join(', ')})`);
  // Older checkpoints (and CPU runs) have no GEMM variants: the resumed run then chooses afresh.
  const variants = meta.gemm_variants === undefined ? {} : json('gemm_variants');
  if (typeof variants !== 'object' || variants === null || Array.isArray(variants)) fail('metadata "gemm_variants" is not an object');
  const gemmVariants = Object.fromEntries(Object.entries(variants as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  return {
    info: {
      runId: meta.run_id as string,
      modelName: meta.model_name as ModelName,
      settings: settings as Record<string, unknown>,
      normalization,
      data,
      gemmVariants: () => gemmVariants,
    },
    spec: json('model'),
  };
}

function counter(file: SafetensorsFile, path: string, key: string): number {
  const v = file.metadata[key];
  const n = Number(v);
  if (v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new CheckpointError(path, `metadata "${key}" is ${JSON.stringify(v)}, expected a non-negative integer`);
  return n;
}

function history<T>(file: SafetensorsFile, path: string): T[] {
  try {
    const h = JSON.parse(file.metadata.history ?? '') as unknown;
    if (!Array.isArray(h)) throw new Error('not a list');
    return h as T[];
  } catch (e) {
    throw new CheckpointError(path, `metadata "history" is not a JSON list (${(e as Error).message})`);
  }
}

// A training state (src/train's ClassifierState, VaeState) as metadata, and
// back. The keys are those of the first checkpoints: every file written since
// reads back.

/** The metadata of a classifier's state; the selection score keeps the key best_valid_auroc for --target expression too. */
export function classifierStateMetadata(state: ClassifierState): Record<string, string> {
  return {
    epoch: String(state.epoch),
    step: String(state.step),
    rng_state: String(state.rng),
    best_epoch: String(state.bestEpoch),
    best_valid_auroc: String(state.bestAuroc),
    history: JSON.stringify(state.history),
  };
}

export function classifierStateFrom(file: SafetensorsFile, path: string): ClassifierState {
  // A score that does not parse (the key absent, or "NaN") reads as no best score yet, where the loop starts.
  const bestAuroc = Number(file.metadata.best_valid_auroc);
  return {
    epoch: counter(file, path, 'epoch'),
    step: counter(file, path, 'step'),
    rng: counter(file, path, 'rng_state'),
    bestEpoch: counter(file, path, 'best_epoch'),
    bestAuroc: Number.isNaN(bestAuroc) ? Number.NEGATIVE_INFINITY : bestAuroc,
    history: history<EpochRecord>(file, path),
  };
}

export function vaeStateMetadata(state: VaeState): Record<string, string> {
  return { epoch: String(state.epoch), step: String(state.step), rng_state: String(state.rng), history: JSON.stringify(state.history) };
}

export function vaeStateFrom(file: SafetensorsFile, path: string): VaeState {
  return {
    epoch: counter(file, path, 'epoch'),
    step: counter(file, path, 'step'),
    rng: counter(file, path, 'rng_state'),
    history: history<VaeEpochRecord>(file, path),
  };
}

/** A best or last checkpoint from its decoded file; `path` names it in errors. */
export function classifierCheckpointFrom(file: SafetensorsFile, path: string, role: 'best' | 'last'): ClassifierCheckpoint {
  const { info, spec: rawSpec } = readInfo(file, path, role);
  const spec = checkClassifierSpec(rawSpec, (what) => {
    throw new CheckpointError(path, what);
  });
  // The classifier's architecture must be the one its model name trains: a file whose two disagree was not written by a run.
  const expected = classifierSpecFor(info.modelName, { bins: 1, marks: 1, latentWidth: 1, derivedWidth: 1 }).architecture;
  if (spec.architecture !== expected) throw new CheckpointError(path, `model_name ${info.modelName} trains a ${expected} classifier, the file holds a ${spec.architecture}`);
  const model = buildClassifier(spec);
  const state = classifierStateFrom(file, path);
  const store = model.store;
  const base = { file: path, role, info, spec, model, state, params: tensorsToFlat(store, file, path) };
  if (role === 'best') return base;
  return {
    ...base,
    adamM: tensorsToFlat(store, file, path, 'adam.m.'),
    adamV: tensorsToFlat(store, file, path, 'adam.v.'),
    best: tensorsToFlat(store, file, path, 'best.'),
  };
}

/** A vae checkpoint from its decoded file; `path` names it in errors. */
export function vaeCheckpointFrom(file: SafetensorsFile, path: string): VaeCheckpoint {
  const { info, spec: rawSpec } = readInfo(file, path, 'vae');
  const spec = checkVaeSpec(rawSpec, (what) => {
    throw new CheckpointError(path, what);
  });
  const model = buildVae(spec);
  const store = model.store;
  return {
    file: path,
    info,
    spec,
    model,
    state: vaeStateFrom(file, path),
    params: tensorsToFlat(store, file, path),
    adamM: tensorsToFlat(store, file, path, 'adam.m.'),
    adamV: tensorsToFlat(store, file, path, 'adam.v.'),
  };
}

/** vae-joint's VAE as its best epoch left it: best.safetensors holds the whole joint model, whose flat buffer
 * begins with the VAE's (src/models/vaeJoint.ts); vae.safetensors holds the VAE before fine-tuning. */
export function fineTunedVae(vae: VaeCheckpoint, c: ClassifierCheckpoint): VaeCheckpoint {
  if (!isJointSpec(c.spec) || JSON.stringify(c.spec.vae) !== JSON.stringify(vae.spec)) {
    throw new Error(`${c.file}: does not hold the VAE of ${vae.file} (sizes ${JSON.stringify(vae.spec)})`);
  }
  return { ...vae, file: c.file, params: c.params.slice(0, vae.model.store.total) };
}

/** The window a trained model reads per gene: its VAE's, or its classifier's; a classifier on derived features
 * (tss-linear, ...) does not read the window as its input, so its bins are those of the data it trained on. */
export function modelWindow(m: { readonly classifier?: ClassifierCheckpoint; readonly vae?: VaeCheckpoint; readonly normalization: NormalizationStats }): {
  readonly bins: number;
  readonly marks: number;
} {
  const c = m.classifier;
  const bins = m.vae ? m.vae.spec.bins : c ? (inputBins(c.spec) ?? c.info.data.bins) : undefined;
  if (bins === undefined) throw new Error('a trained model holds a classifier or a VAE; this one has neither');
  return { bins, marks: m.normalization.marks.length };
}
