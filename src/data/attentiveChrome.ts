// Reader for the AttentiveChrome v2 / DeepDiffChrome layout:
//   <prefix>.{train,valid,test}.csv[.gz]  rows ENSG_SYMBOL_bin,<5 marks>
//   <prefix>.expr.csv[.gz]                rows ENSG,value (no label column)
// The marks' column order is H3K4me1,H3K4me3,H3K9me3,H3K27me3,H3K36me3 unless
// a header row names them; either way they are mapped by name onto MARKS.
// Labels come from thresholding the expression file (default: its median).

import { basename, dirname, join } from 'node:path';
import {
  type AttentiveChromeFiles,
  type AttentiveChromeOptions,
  type Expression,
  readAttentiveChromeSplits,
  readExpressionWith,
} from './attentiveChromeRows.ts';
import { DataError, SPLITS, type Dataset } from './dataset.ts';
import { readLines } from './lineReader.ts';
import { findCsv, findSplitFiles, pathKind, splitPrefixesIn, type SplitFile } from './sourceFiles.ts';

export {
  ATTENTIVECHROME_MARK_COLUMNS,
  type AttentiveChromeFiles,
  type AttentiveChromeOptions,
  type Expression,
  type LabelThreshold,
  thresholdValue,
} from './attentiveChromeRows.ts';

/**
 * A prefix such as `…/Cell2` (files `Cell2.{train,valid,test,expr}.csv[.gz]`),
 * a directory holding exactly one such set, or explicit paths.
 */
export type AttentiveChromeSource =
  | string
  | { readonly train?: string; readonly valid?: string; readonly test?: string; readonly expr: string };

export async function readAttentiveChrome(source: AttentiveChromeSource, opts: AttentiveChromeOptions = {}): Promise<Dataset> {
  const resolved = await resolveAttentiveChrome(source);
  return readAttentiveChromeFiles(resolved, opts);
}

export function readAttentiveChromeFiles(resolved: AttentiveChromeFiles, opts: AttentiveChromeOptions = {}): Promise<Dataset> {
  return readAttentiveChromeSplits(resolved, opts, readLines);
}

/** Reads `ENSG,value` rows (no header). */
export function readExpression(path: string): Promise<Expression> {
  return readExpressionWith(path, readLines);
}

/** Finds `<prefix>.{train,valid,test}.csv[.gz]` and `<prefix>.expr.csv[.gz]`. */
export async function resolveAttentiveChrome(source: AttentiveChromeSource): Promise<AttentiveChromeFiles> {
  if (typeof source !== 'string') {
    const files: SplitFile[] = [];
    for (const split of SPLITS) {
      const path = source[split];
      if (path !== undefined) files.push({ split, path });
    }
    if (files.length === 0) throw new RangeError('readAttentiveChrome: no split file given (expected train, valid and/or test paths)');
    return { cell: prefixName((files[0] as SplitFile).path), files, expr: source.expr };
  }
  let prefix = source;
  if (pathKind(source) === 'directory') {
    const prefixes = splitPrefixesIn(source);
    if (prefixes.length !== 1) {
      throw new DataError(
        source,
        undefined,
        prefixes.length === 0
          ? `unknown layout: ${ATTENTIVECHROME_LOOKED_FOR}`
          : `holds several cells (${prefixes.join(', ')}): pass one of them as a prefix, e.g. ${join(source, prefixes[0] as string)}`,
      );
    }
    prefix = join(source, prefixes[0] as string);
  }
  const files = findSplitFiles(prefix, '.');
  if (files === undefined) throw new DataError(prefix, undefined, `unknown layout: ${ATTENTIVECHROME_LOOKED_FOR}`);
  const expr = findCsv(`${prefix}.expr`);
  if (expr === undefined) {
    throw new DataError(`${prefix}.expr`, undefined, `missing expression file: looked for ${basename(prefix)}.expr.csv and ${basename(prefix)}.expr.csv.gz in ${dirname(prefix)}`);
  }
  return { cell: basename(prefix), files, expr };
}

function prefixName(path: string): string {
  return basename(path).replace(/\.(train|valid|test)\.csv(\.gz)?$/, '');
}

export const ATTENTIVECHROME_LOOKED_FOR = 'looked for AttentiveChrome <prefix>.{train,valid,test}.csv[.gz] with <prefix>.expr.csv[.gz]';
