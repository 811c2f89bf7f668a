// The rows of the DeepChrome layout, one split file at a time, from wherever
// `lines` gets a file's lines (disk in deepchrome.ts, a dropped File in the
// page), so both report the same errors at the same file:line.
//   GeneID,BinID,H3K27me3,H3K36me3,H3K4me1,H3K4me3,H3K9me3,label

import { MARKS, repeatsNote, type Dataset, type Split } from './dataset.ts';
import { GeneRowTable } from './geneRows.ts';
import { FieldKey, type LineCursor, quote } from './lineCursor.ts';
import type { ReadLines } from './lineSplitter.ts';
import type { SplitFile } from './sourceFiles.ts';

/** Bytes of the shortest realistic row, "1,1,0,0,0,0,0,0\n" + a few digits of gene id: rows ≤ bytes / this. */
const MIN_ROW_BYTES = 20;

export const DEEPCHROME_COLUMNS: readonly string[] = ['GeneID', 'BinID', ...MARKS, 'label'];

/** Reads the given split files (in the given order) into one Dataset, each through `lines`. */
export async function readDeepChromeSplits(files: readonly SplitFile[], cell: string, lines: ReadLines): Promise<Dataset> {
  const table = new GeneRowTable(MARKS.length);
  for (const f of files) await readDeepChromeFile(f.path, f.split, table, lines);
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

async function readDeepChromeFile(path: string, split: Split, table: GeneRowTable, readLines: ReadLines): Promise<void> {
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

