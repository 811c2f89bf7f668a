// Reader for the DeepChrome layout: `<cell>/classification/{train,valid,test}.csv`
// (plain or gzip), no header, one row per (gene, bin):
//   GeneID,BinID,H3K27me3,H3K36me3,H3K4me1,H3K4me3,H3K9me3,label
// The marks are already in the canonical MARKS order. The number of bins is
// whatever the first gene has (100 in DeepChrome); every gene must match it.

import { basename, join } from 'node:path';
import { DataError, MARKS, repeatsNote, type Dataset, type Split } from './dataset.ts';
import { GeneRowTable } from './geneRows.ts';
import { FieldKey, type LineCursor, quote } from './lineCursor.ts';
import { readLines } from './lineReader.ts';
import {
  cellNameFrom,
  cellOfDirectory,
  findSplitFiles,
  pathKind,
  SPLITS,
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

/** Bytes of the shortest realistic row, "1,1,0,0,0,0,0,0\n" + a few digits of gene id: rows ≤ bytes / this. */
const MIN_ROW_BYTES = 20;

export const DEEPCHROME_COLUMNS: readonly string[] = ['GeneID', 'BinID', ...MARKS, 'label'];

export interface ResolvedSplits {
  readonly cell: string;
  readonly files: readonly SplitFile[];
}

export async function readDeepChrome(source: DeepChromeSource, opts: DeepChromeOptions = {}): Promise<Dataset> {
  const resolved = await resolveDeepChrome(source);
  return readDeepChromeFiles(resolved.files, opts.cell ?? resolved.cell);
}

/** Reads the given split files (in the given order) into one Dataset. */
export async function readDeepChromeFiles(files: readonly SplitFile[], cell: string): Promise<Dataset> {
  const table = new GeneRowTable(MARKS.length);
  for (const f of files) await readDeepChromeFile(f.path, f.split, table);
  const r = table.result();
  return {
    cell,
    genes: table.genes,
    bins: r.bins,
    marks: MARKS,
    features: r.features,
    labels: r.labels,
    split: r.split,
    geneIds: table.geneIds,
    source: files.map((f) => f.path),

    ...(table.droppedRepeats.length > 0 ? { notes: repeatsNote(table.droppedRepeats) } : {}),
  };
}

async function readDeepChromeFile(path: string, split: Split, table: GeneRowTable): Promise<void> {
  table.startFile(path, split);
  const key = new FieldKey();
  const id = (): string => key.text();
  await readLines(path, (cur: LineCursor) => {
    cur.columns = 8;
    cur.columnNames = DEEPCHROME_COLUMNS;
    if (cur.lineNo === 1 && looksLikeHeader(cur.lineText())) {
      cur.fail(`this looks like a header line (${quote(cur.lineText())}); DeepChrome files have none, every line is gene,bin,5 counts,label: remove it`);
    }
    const changed = cur.keyField(key);
    const bin = cur.integer();
    const o = table.row(cur, changed, id, bin);
    const f = table.features;
    f[o] = cur.count();
    f[o + 1] = cur.count();
    f[o + 2] = cur.count();
    f[o + 3] = cur.count();
    f[o + 4] = cur.count();
    table.label(cur, cur.label());
    cur.finish();
  }, { onOpen: (bytes) => table.reserve(Math.ceil(bytes / MIN_ROW_BYTES)) });
  table.endFile();
}

/** A first line whose bin or count columns hold words, not numbers. */
function looksLikeHeader(line: string): boolean {
  const fields = line.split(',').slice(1);
  return fields.length > 0 && fields.every((f) => !/^\s*[+-]?[\d.]/.test(f)) && fields.some((f) => /[A-Za-z]/.test(f));
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
