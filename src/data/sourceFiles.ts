// Finding the files of a cell on disk: `<base>.csv` or `<base>.csv.gz`, the
// three split files under a prefix or in a directory, and a cell name from a
// path. Shared by the readers and by loadCell's layout detection. These are
// a few dozen metadata calls per load, done synchronously: each takes
// microseconds, while an async round trip through the thread pool costs
// more than the whole cache hit they precede.

import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, SPLITS, type Split } from './dataset.ts';
import { describeIoError } from './lineReader.ts';

export interface SplitFile {
  readonly split: Split;
  readonly path: string;
}

export type PathKind = 'file' | 'directory' | 'missing';

/** What is at `path`; a loop of symbolic links is a DataError naming it, not "missing". */
export function pathKind(path: string): PathKind {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'directory' : 'file';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new DataError(path, undefined, describeIoError(e));
    return 'missing';
  }
}

/** `<base>.csv` or `<base>.csv.gz`, whichever exists; both existing is ambiguous. */
export function findCsv(base: string): string | undefined {
  const plain = `${base}.csv`;
  const gz = `${base}.csv.gz`;
  const p = pathKind(plain);
  const g = pathKind(gz);
  if (p === 'file' && g === 'file') {
    throw new DataError(base, undefined, `both ${basename(plain)} and ${basename(gz)} exist: remove one so that it is clear which to read`);
  }
  if (p === 'file') return plain;
  if (g === 'file') return gz;
  for (const [path, kind] of [[plain, p], [gz, g]] as const) {
    if (kind === 'directory') throw new DataError(path, undefined, 'is a directory where a data file should be: move it away or pass the data file itself');
  }
  return undefined;
}

/**
 * The three split files `<base><sep>{train,valid,test}.csv[.gz]`, or
 * undefined when none exists. When only some exist, the missing ones are an
 * error: a cell is always its three splits.
 */
export function findSplitFiles(base: string, sep: string): SplitFile[] | undefined {
  const found = SPLITS.map((s) => findCsv(`${base}${sep}${s}`));
  if (found.every((f) => f === undefined)) return undefined;
  return SPLITS.map((split, i) => {
    const path = found[i];
    if (path === undefined) {
      const b = `${base}${sep}${split}`;
      throw new DataError(b, undefined, `missing split file: looked for ${basename(b)}.csv and ${basename(b)}.csv.gz`);
    }
    return { split, path };
  });
}

const SPLIT_SET_FILE = /^(.+)\.(train|valid|test)\.csv(\.gz)?$/;

/** Prefixes P in `dir` that have files `P.{train,valid,test}.csv[.gz]` (any of the three). */
export function splitPrefixesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const prefixes = new Set<string>();
  for (const n of names) {
    const m = SPLIT_SET_FILE.exec(n);
    if (m !== null) prefixes.add(m[1] as string);
  }
  return [...prefixes].sort();
}

/** Files in `dir` whose names match `pattern`, sorted. */
export function filesMatching(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => pattern.test(n)).sort().map((n) => join(dir, n));
}

/** The split a single file holds, from a train/valid/test word in its name. */
export function splitFromName(path: string): Split | undefined {
  const m = /(?:^|[._-])(train|valid|test)(?:[._-]|$)/.exec(basename(path));
  return m === null ? undefined : (m[1] as Split);
}

/** "E003" from names like E003_sample600 or gcmerge_E116_genes; otherwise the name itself. */
export function cellNameFrom(name: string): string {
  const m = /(?:^|[^A-Za-z0-9])(E\d{3})(?:[^0-9]|$)/.exec(name);
  return m === null ? name : (m[1] as string);
}

/** The cell of a DeepChrome directory: `E003/classification` and `E003` are both E003. */
export function cellOfDirectory(dir: string): string {
  const b = basename(dir);
  return b === 'classification' ? basename(dirname(dir)) : b;
}

/** The name of a file without directory and without `.csv` / `.csv.gz`. */
export function stem(path: string): string {
  return basename(path).replace(/\.csv(\.gz)?$/, '');
}
