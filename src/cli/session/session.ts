import type { DataInfo } from '../../checkpoint/checkpointFormat.ts';
import { datasetFingerprint } from '../../checkpoint/fingerprint.ts';
import type { Dataset } from '../../data/dataset.ts';
import { expressionTargets } from '../../data/expressionTargets.ts';
import { loadCell } from '../../data/loadCell.ts';
import type { CacheReport } from '../../data/cache.ts';
import { marksMismatch } from '../../data/dataset.ts';
import { applyNormalization, fitNormalization, type NormalizationStats } from '../../data/normalize.ts';
import type { CliOptions } from '../flags/args.ts';
import { readProgress } from './readProgress.ts';
import { chooseData, DEFAULT_ANNOTATION, DEFAULT_EXPRESSION_TABLE } from './dataSource.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import { pickRunSettings } from '../flags/pickRunSettings.ts';

// What the train and experiment commands share: settings from flags and
// loading plus normalising the chosen data (the progress lines on stderr:
// progressPrinter.ts).

export const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function settingsOf(o: CliOptions): RunSettings {
  return pickRunSettings(o, { annotation: DEFAULT_ANNOTATION, expressionTable: DEFAULT_EXPRESSION_TABLE });
}

export interface LoadedData {
  readonly dataset: Dataset;
  readonly normalization: NormalizationStats;
  readonly source: {
    readonly path: string;
    readonly layout: string;
    readonly synthetic: boolean;
    readonly cache: string;
    /** Each file read, with its size and the SHA-256 of its bytes. */
    readonly files: readonly { readonly path: string; readonly bytes: number; readonly sha256: string }[];
  };
  /** datasetFingerprint of the data as read (before normalization). */
  readonly fingerprint: string;
}

/** Tells the user, on stderr, of a cache that was damaged or altered (never trusted: the data was read again), a
 * file of someone else's at its name, or a cache that could not be written; nothing for a hit, miss or stale. */
export function tellCache(c: CacheReport): void {
  const notes: string[] = [];
  if (c.status === 'corrupt') notes.push(`the cache ${c.file} was not used: ${c.reason}; the data was read from its sources${c.writeError === undefined ? ' and the cache rewritten' : ''}`);
  if (c.status === 'foreign') notes.push(`${c.file} is ${c.reason}: it is left as it is, and the data is read from its sources each time (move it away to let a cache be written)`);
  if (c.writeError !== undefined) notes.push(`the cache could not be written (${c.writeError}); the data is read from its sources each time until it can be`);
  for (const note of notes) err(`data: ${note}`);
}

/** Reads the chosen data and normalises it: with statistics fitted on its
 * training genes, or with `fitted.stats` as given (a resumed run never refits;
 * `fitted.by` names the model, for the refusal of data with other marks). */
export async function loadData(o: CliOptions, fitted?: { readonly stats: NormalizationStats; readonly by: string }): Promise<LoadedData> {
  const choice = await chooseData(o.data, err);
  const loaded = await loadCell(choice.path, { onProgress: readProgress(o.quiet) });
  for (const note of loaded.dataset.notes ?? []) err(`data: ${loaded.dataset.cell}: ${note}`);
  tellCache(loaded.cache);
  const stats = fitted?.stats;
  const mismatch = stats && marksMismatch(stats.marks, loaded.dataset.marks);
  if (mismatch) throw new Error(`--data ${choice.path}: ${fitted.by}: ${mismatch}`);
  const normalization = stats ?? fitNormalization(loaded.dataset, o.normalize);
  const dataset = applyNormalization(loaded.dataset, normalization);
  return {
    dataset:
      o.target === 'expression' ? { ...dataset, expression: await expressionTargets(loaded.dataset, loaded.layout, DEFAULT_EXPRESSION_TABLE) } : dataset,
    normalization,
    source: {
      path: choice.path,
      layout: loaded.layout,
      synthetic: choice.synthetic,
      cache: loaded.cache.writeError === undefined ? loaded.cache.status : `unwritable: ${loaded.cache.writeError}`,
      files: (loaded.sources ?? []).map((f) => ({ path: f.path, bytes: f.size, sha256: f.sha256 })),
    },
    fingerprint: datasetFingerprint(loaded.dataset),
  };
}

/** What a checkpoint records of the data it was trained on (train, experiment runs and VAEs, grid entries). */
export function dataInfoOf(data: LoadedData): DataInfo {
  const ds = data.dataset;
  return { cell: ds.cell, path: data.source.path, layout: data.source.layout, genes: ds.genes, bins: ds.bins, marks: [...ds.marks], fingerprint: data.fingerprint };
}
