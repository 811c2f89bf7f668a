// Reader for the DeepChrome layout: `<cell>/classification/{train,valid,test}.csv`
// (plain or gzip), no header, one row per (gene, bin):
//   GeneID,BinID,H3K27me3,H3K36me3,H3K4me1,H3K4me3,H3K9me3,label
// The marks are already in the canonical MARKS order. The number of bins is
// whatever the first gene has (100 in DeepChrome); every gene must match it.

import { basename, join } from 'node:path';
import { DataError, SPLITS, type Dataset } from './dataset.ts';
import { readDeepChromeSplits } from './deepchromeRows.ts';
import { readLines } from './lineReader.ts';
import {
  cellNameFrom,
  cellOfDirectory,
  findSplitFiles,
  pathKind,
  splitFromName,
  splitPrefixesIn,
  stem,
  type SplitFile,
} from './sourceFiles.ts';

/**
 * Where a DeepChrome cell is:
 * - a string naming a cell directory (with `classification/`), a directory
 *   holding `{train,valid,test}.csv[.gz]` or a single `P.{train,valid,test}.csv[.gz]`
 *   set, a prefix P of such a set (`…/E003_sample600`), or one split file
 *   (its split read from the name);
 * - or explicit paths per split (any non-empty subset).
 */
export type DeepChromeSource = string | { readonly train?: string; readonly valid?: string; readonly test?: string };

export interface DeepChromeOptions {
  /** Dataset.cell; default: from the directory or file names (e.g. "E003"). */
  readonly cell?: string;
}

export interface ResolvedSplits {
  readonly cell: string;
  readonly files: readonly SplitFile[];
}

export { DEEPCHROME_COLUMNS } from './deepchromeRows.ts';

export async function readDeepChrome(source: DeepChromeSource, opts: DeepChromeOptions = {}): Promise<Dataset> {
  const resolved = await resolveDeepChrome(source);
  return readDeepChromeFiles(resolved.files, opts.cell ?? resolved.cell);
}

/** Reads the given split files (in the given order) into one Dataset. */
export function readDeepChromeFiles(files: readonly SplitFile[], cell: string): Promise<Dataset> {
  return readDeepChromeSplits(files, cell, readLines);
}

/** Finds the split files of a DeepChrome source (see DeepChromeSource). */
export async function resolveDeepChrome(source: DeepChromeSource): Promise<ResolvedSplits> {
  if (typeof source !== 'string') {
    const files: SplitFile[] = [];
    for (const split of SPLITS) {
      const path = source[split];
      if (path !== undefined) files.push({ split, path });
    }
    if (files.length === 0) throw new RangeError('readDeepChrome: no split file given (expected train, valid and/or test paths)');
    return { cell: cellNameFrom(stem((files[0] as SplitFile).path)), files };
  }
  const kind = pathKind(source);
  if (kind === 'directory') {
    const nested = findSplitFiles(join(source, 'classification'), '/');
    if (nested !== undefined) return { cell: cellOfDirectory(source), files: nested };
    const flat = findSplitFiles(source, '/');
    if (flat !== undefined) return { cell: cellOfDirectory(source), files: flat };
    const prefixes = splitPrefixesIn(source);
    if (prefixes.length === 1) {
      const p = prefixes[0] as string;
      return { cell: cellNameFrom(p), files: findSplitFiles(join(source, p), '.') as SplitFile[] };
    }
    if (prefixes.length > 1) {
      throw new DataError(source, undefined, `holds several cells (${prefixes.join(', ')}): pass one of them as a prefix, e.g. ${join(source, prefixes[0] as string)}`);
    }
    throw new DataError(source, undefined, `unknown layout: ${DEEPCHROME_LOOKED_FOR}`);
  }
  if (kind === 'file') {
    const split = splitFromName(source);
    if (split === undefined) {
      throw new DataError(source, undefined, 'cannot tell the split (train, valid or test) from the file name: pass { train: path } instead');
    }
    return { cell: cellNameFrom(stem(source)), files: [{ split, path: source }] };
  }
  const files = findSplitFiles(source, '.');
  if (files === undefined) throw new DataError(source, undefined, `no such file or directory, and no ${basename(source)}.{train,valid,test}.csv[.gz] beside it`);
  return { cell: cellNameFrom(basename(source)), files };
}

export const DEEPCHROME_LOOKED_FOR =
  'looked for DeepChrome classification/{train,valid,test}.csv[.gz], {train,valid,test}.csv[.gz] and <prefix>.{train,valid,test}.csv[.gz]';
