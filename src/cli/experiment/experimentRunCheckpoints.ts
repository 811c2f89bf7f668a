import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathUnder } from '../../util/pathUnder.ts';
import { RunCheckpoints, readClassifierCheckpoint } from '../../checkpoint/runCheckpoint.ts';
import type { RunHooks } from '../../train/runModel.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import { EXPERIMENT_FILE } from '../session/runDirectory.ts';
import type { LoadedData } from '../session/session.ts';
import type { ExperimentTarget } from './experimentVaes.ts';

// The run an experiment is training keeps a checkpoint after every epoch, in
// its own folder under running/, so that a stop (a sitting's end, a kill, a
// full disk) loses at most one epoch of it: on E116 one attentivechrome or
// deepchrome run at all labeled genes is one to two hours on a software
// adapter, longer than what is left of many sittings. The folder is deleted
// once the run's row is in the CSV; a resumed experiment continues the run
// from it, after checking that it was trained with the same settings and data.

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
  if (full === undefined || basename(full) !== name) throw new Error(`run ${JSON.stringify(runFolderName(at))} would put its checkpoints outside ${root}`);
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
  readonly hooks: Pick<RunHooks, 'checkpoints' | 'resume'>;
  /** Seconds the epochs restored from the checkpoint took in the sitting that trained them. */
  readonly restoredSeconds: number;
  finished(): void;
}

export async function runInProgress(out: ExperimentTarget, at: RunAt, s: RunSettings, data: LoadedData, note: (line: string) => void): Promise<RunInProgress> {
  const identity = runIdentity(at, s, data);
  const ds = data.dataset;
  const checkpoints = new RunCheckpoints(runFolder(out.dir(), at), {
    runId: `run-${runFolderName(at)}-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`,
    modelName: s.model,
    settings: { identity },
    normalization: data.normalization,
    data: { cell: ds.cell, path: data.source.path, layout: data.source.layout, genes: ds.genes, bins: ds.bins, marks: [...ds.marks], fingerprint: data.fingerprint },
  });
  checkpoints.onSaved = () => {
    out.saved();
    checkpoints.relocate(runFolder(out.dir(), at));
  };
  const last = checkpoints.path('last');
  let resume: RunHooks['resume'];
  let restoredSeconds = 0;
  if (existsSync(last)) {
    const from = await readClassifierCheckpoint(last, 'last');
    if (from.info.runId !== checkpoints.info.runId) {
      throw new Error(`${last}: a checkpoint of other settings or data (${from.info.runId}); this run's is ${checkpoints.info.runId}. Move the folder away to train the run again`);
    }
    restoredSeconds = from.state.history.reduce((sum, e) => sum + e.seconds, 0);
    note(`experiment: ${ds.cell}, ${at.model}, ${at.size}, seed ${at.seed}: continuing from ${last} (epoch ${from.state.epoch} of ${s.epochs}, best epoch ${from.state.bestEpoch})`);
    resume = { classifier: from };
  } else {
    mkdirSync(checkpoints.dir, { recursive: true });
  }
  return {
    hooks: { checkpoints, ...(resume ? { resume } : {}) },
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

function removeIfEmpty(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
}
