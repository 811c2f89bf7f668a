import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathUnder } from '../../util/pathUnder.ts';
import { type ClassifierCheckpoint, type RunCheckpoints, type RunInfo, readClassifierCheckpoint } from '../../checkpoint/runCheckpoint.ts';
import type { RunHooks } from '../../train/runModel.ts';
import type { TrainedValue, WeightSearchStore } from '../../train/weightSearchStore.ts';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import { EXPERIMENT_FILE } from '../session/runDirectory.ts';
import { type LoadedData, dataInfoOf } from '../session/session.ts';
import { type ExperimentTarget, checkpointsIn } from './experimentVaes.ts';

// The run an experiment is training keeps a checkpoint after every epoch, in
// its own folder under running/, so that a stop (a sitting's end, a kill, a
// full disk) loses at most one epoch of it: on E116 one attentivechrome or
// deepchrome run at all labeled genes is one to two hours on a software
// adapter, longer than what is left of many sittings. The folder is deleted
// once the run's row is in the CSV; a resumed experiment continues the run
// from it, after checking that it was trained with the same settings and data.
// A run that searches a loss weight over several values (vae-m2's α, vae-joint's λ) keeps each value's epochs
// in weight-<i>/ inside its folder, and each finished value's result in weight-<i>.json, so a stop costs at
// most an epoch of one value there too.

const RUNNING_DIR = EXPERIMENT_FILE.running;

/** Which run of the grid: the arm's label (model, or model:neighbours), the size and the seed, on one cell. */
export interface RunAt {
  readonly cell: string;
  readonly model: string;
  readonly size: number | 'all';
  readonly seed: number;
}

export function runFolderName(at: RunAt): string {
  // ':' (an arm's neighbour kind) is not a safe file name character everywhere.
  return `${at.cell}-${at.model.replace(/:/g, '-')}-${at.size}-seed${at.seed}`;
}

export function runFolder(experimentDir: string, at: RunAt): string {
  // The cell's name comes from the data's files: the folder it names must stay inside running/.
  const root = join(experimentDir, RUNNING_DIR);
  const name = runFolderName(at);
  const full = pathUnder(root, name);
  if (full === undefined || basename(full) !== name) throw new Error(`run ${JSON.stringify(name)} would put its checkpoints outside ${root}`);
  return full;
}

/** What a run's checkpoint must have been trained with: its settings (the sources' paths left out, since the data's
 * fingerprint and experiment.json pin them and a clone elsewhere must still resume), the arm, and the data. */
export function runIdentity(at: RunAt, s: RunSettings, data: Pick<LoadedData, 'fingerprint' | 'normalization'>): string {
  const { annotation: _a, expressionTable: _e, ...settings } = s;
  return JSON.stringify({ arm: at.model, size: at.size, settings, normalization: data.normalization.scheme, data: data.fingerprint });
}

/** A run's checkpoint hooks: where it writes after every epoch, and (when a stopped experiment left one) the
 * checkpoint it continues from, with the seconds its finished epochs took; `finished` deletes its folder. */
export interface RunInProgress {
  readonly hooks: Pick<RunHooks, 'checkpoints' | 'resume' | 'weightValues'>;
  /** Seconds the epochs restored from the checkpoint took in the sitting that trained them. */
  readonly restoredSeconds: number;
  finished(): void;
}

export async function runInProgress(out: ExperimentTarget, at: RunAt, s: RunSettings, data: LoadedData, note: (line: string) => void): Promise<RunInProgress> {
  const identity = runIdentity(at, s, data);
  const ds = data.dataset;
  const checkpoints = checkpointsIn(out, () => runFolder(out.dir(), at), {
    runId: `run-${runFolderName(at)}-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`,
    modelName: s.model,
    settings: { identity },
    normalization: data.normalization,
    data: dataInfoOf(data),
  });
  const weightValues = weightValueStore(out, at, checkpoints.info, note);
  const from = await continuedFrom(checkpoints, "this run's");
  const restoredSeconds = from ? from.state.history.reduce((sum, e) => sum + e.seconds, 0) : 0;
  if (from) note(`experiment: ${ds.cell}, ${at.model}, ${at.size}, seed ${at.seed}: continuing from ${from.file} (epoch ${from.state.epoch} of ${s.epochs}, best epoch ${from.state.bestEpoch})`);
  return {
    hooks: { checkpoints, weightValues, ...(from ? { resume: { classifier: from } } : {}) },
    restoredSeconds,
    finished: () => {
      rmSync(runFolder(out.dir(), at), { recursive: true, force: true });
      removeIfEmpty(join(out.dir(), RUNNING_DIR));
    },
  };
}

/** Deletes the folders of runs the CSV already holds (a stop between the row and the deletion leaves one), and
 * running/ itself once empty; returns the names deleted. */
export function removeFinishedRunFolders(experimentDir: string, finished: readonly RunAt[]): string[] {
  const root = join(experimentDir, RUNNING_DIR);
  if (!existsSync(root)) return [];
  const done = new Set(finished.map(runFolderName));
  const removed = readdirSync(root).filter((name) => done.has(name));
  for (const name of removed) rmSync(join(root, name), { recursive: true, force: true });
  removeIfEmpty(root);
  return removed;
}

/** The classifier checkpoint a stop left in `checkpoints`' folder, or undefined (the folder is then made); one of
 * another run (other settings or data) is refused, naming both ids. `whose` names this run or value. */
async function continuedFrom(checkpoints: RunCheckpoints, whose: string): Promise<ClassifierCheckpoint | undefined> {
  const last = checkpoints.path('last');
  if (!existsSync(last)) {
    mkdirSync(checkpoints.dir, { recursive: true });
    return undefined;
  }
  const from = await readClassifierCheckpoint(last, 'last');
  if (from.info.runId !== checkpoints.info.runId) {
    throw new Error(`${last}: a checkpoint of other settings or data (${from.info.runId}); ${whose} is ${checkpoints.info.runId}. Move the folder away to train the run again`);
  }
  return from;
}

function removeIfEmpty(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
}

/** A finished value's file: the run's id (so a file of another run's settings is refused), the value, the result. */
interface StoredValue {
  readonly runId: string;
  readonly value: number;
  readonly trained: TrainedValue;
}

// Scores may be NaN (a split of one class has no AUROC), which JSON cannot hold: such numbers are kept as strings.
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
const encodeNumber = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const decodeNumber = (_key: string, v: unknown): unknown => (typeof v === 'string' && NON_FINITE.has(v) ? Number(v) : v);

/** The weight-search store of the run at `at`: files in its folder under running/. */
function weightValueStore(out: ExperimentTarget, at: RunAt, info: RunInfo, note: (line: string) => void): WeightSearchStore {
  const file = (index: number): string => join(runFolder(out.dir(), at), `weight-${index}.json`);
  const folder = (index: number): string => join(runFolder(out.dir(), at), `weight-${index}`);
  const where = (value: number): string => `${at.cell}, ${at.model}, ${at.size}, seed ${at.seed}, weight ${value}`;
  return {
    async finished(index, value) {
      const path = file(index);
      if (!existsSync(path)) return undefined;
      const stored = JSON.parse(readFileSync(path, 'utf8'), decodeNumber) as StoredValue;
      if (stored.runId !== info.runId || stored.value !== value) {
        throw new Error(`${path}: the result of another run or weight (${stored.runId}, ${stored.value}); this run's is ${info.runId}, ${value}. Move the folder away to train the run again`);
      }
      note(`experiment: ${where(value)}: trained in an earlier sitting, from ${path}`);
      const r = stored.trained.result;
      return { ...stored.trained, result: { ...r, testPredictions: Float32Array.from(r.testPredictions as unknown as number[]) } };
    },
    async value(index, value) {
      const checkpoints = checkpointsIn(out, () => folder(index), { ...info, runId: `${info.runId}-weight${index}` });
      const from = await continuedFrom(checkpoints, "this value's");
      if (!from) return { checkpoints };
      note(`experiment: ${where(value)}: continuing from ${from.file} (epoch ${from.state.epoch}, best epoch ${from.state.bestEpoch})`);
      return { checkpoints, resume: from };
    },
    async keep(index, value, trained) {
      const r = trained.result;
      const stored: StoredValue = { runId: info.runId, value, trained: { ...trained, result: { ...r, testPredictions: Array.from(r.testPredictions) as unknown as Float32Array } } };
      await writeFileAtomically(file(index), `${JSON.stringify(stored, encodeNumber)}\n`);
      rmSync(folder(index), { recursive: true, force: true });
    },
  };
}
