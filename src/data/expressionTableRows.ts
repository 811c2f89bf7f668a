// The expression table: RPKM of every gene in every Roadmap cell, one row per
// gene (ShallowChrome's `rpkm_19802genes_x_56cells.csv.gz`). It is the source
// of functional neighbors and of labels for cells whose feature files carry
// none. Header: `ensg,geneid6,deepchrome_split,<cell>,<cell>,…`.
//
// The real table lists 7 genes twice (same Ensembl id, same numbers; the
// annotation gives them two symbols). Both rows are kept, so row counts match
// DeepChrome's 19,802; `rowOf` maps an id to its first row, and two rows of one
// id with different numbers are an error, because then the id is ambiguous.
//
// This file reads through a ReadLines, so the page uses it too; expressionTable.ts
// is its reader from disk.

import { DataError, SPLIT_CODES, type Split } from './dataset.ts';
import type { ReadLines } from './lineSplitter.ts';

export interface ExpressionTable {
  /** Cell names in column order, e.g. "E003". */
  readonly cells: readonly string[];
  /** Ensembl gene ids (ENSG + 11 digits), one per row; duplicates possible (see above). */
  readonly genes: readonly string[];
  /** DeepChrome's split of each row, as SPLIT_CODES. */
  readonly split: Uint8Array;
  /** [genes, cells], row-major, RPKM as written (float64: the decimals survive). */
  readonly rpkm: Float64Array;
  /** First row of each Ensembl id. */
  readonly rowOf: ReadonlyMap<string, number>;
  readonly source: string;
}

const ENSG = /^ENSG\d{11}$/;
const FIXED_COLUMNS = ['ensg', 'geneid6', 'deepchrome_split'] as const;

/**
 * Calls `onLine(text, lineNumber)` for every line of a text file, plain or
 * gzip, as `lines` reads it (lineReader.ts from disk, blobLines.ts from a
 * page's File: streaming, 1-based lines, blank lines and damaged files are
 * DataErrors). These tables are small, so a string per line is fine.
 */
export async function forEachLineWith(lines: ReadLines, file: string, onLine: (line: string, lineNumber: number) => void): Promise<void> {
  await lines(file, (cursor) => onLine(cursor.lineText(), cursor.lineNo));
}

function parseSplit(text: string, file: string, line: number): number {
  if (text === 'train' || text === 'valid' || text === 'test') return SPLIT_CODES[text as Split];
  throw new DataError(file, line, `deepchrome_split is "${text}", expected train, valid or test`);
}

/** Reads the genes × cells RPKM table (plain or .gz) through `lines`. Throws DataError `file:line: what` on any bad row. */
export async function readExpressionTableWith(lines: ReadLines, file: string): Promise<ExpressionTable> {
  let cells: string[] | undefined;
  const genes: string[] = [];
  const splits: number[] = [];
  let values = new Float64Array(1 << 16);
  let used = 0;
  const rowOf = new Map<string, number>();

  await forEachLineWith(lines, file, (line, n) => {
    const fields = line.split(',');
    if (cells === undefined) {
      for (let i = 0; i < FIXED_COLUMNS.length; i++) {
        if (fields[i] !== FIXED_COLUMNS[i]) {
          throw new DataError(file, n, `header column ${i + 1} is "${fields[i] ?? ''}", expected "${FIXED_COLUMNS[i]}"`);
        }
      }
      cells = fields.slice(FIXED_COLUMNS.length);
      if (cells.length === 0) throw new DataError(file, n, 'header names no cell columns');
      const seen = new Set<string>();
      for (const c of cells) {
        if (c === '') throw new DataError(file, n, 'header has an empty cell name');
        if (seen.has(c)) throw new DataError(file, n, `header names cell "${c}" twice`);
        seen.add(c);
      }
      return;
    }
    const width = FIXED_COLUMNS.length + cells.length;
    if (fields.length !== width) throw new DataError(file, n, `${fields.length} columns, header has ${width}`);
    const ensg = fields[0]!;
    if (!ENSG.test(ensg)) throw new DataError(file, n, `gene "${ensg}" is not an Ensembl id (ENSG + 11 digits)`);
    if (fields[1] !== ensg.slice(-6)) {
      throw new DataError(file, n, `geneid6 "${fields[1]}" is not the last 6 digits of ${ensg}`);
    }
    const split = parseSplit(fields[2]!, file, n);
    if (used + cells.length > values.length) {
      const grown = new Float64Array(values.length * 2);
      grown.set(values);
      values = grown;
    }
    const row = genes.length;
    for (let c = 0; c < cells.length; c++) {
      const text = fields[FIXED_COLUMNS.length + c]!;
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v) || v < 0) {
        throw new DataError(file, n, `${cells[c]} is "${text}", expected a non-negative number`);
      }
      values[used + c] = v;
    }
    const first = rowOf.get(ensg);
    if (first === undefined) {
      rowOf.set(ensg, row);
    } else {
      for (let c = 0; c < cells.length; c++) {
        if (values[first * cells.length + c] !== values[used + c]) {
          throw new DataError(file, n, `${ensg} appears again (row ${first + 1}) with a different ${cells[c]}`);
        }
      }
      if (splits[first] !== split) throw new DataError(file, n, `${ensg} appears again with a different split`);
    }
    used += cells.length;
    genes.push(ensg);
    splits.push(split);
  });

  if (cells === undefined) throw new DataError(file, undefined, 'empty file: no header');
  if (genes.length === 0) throw new DataError(file, undefined, 'no gene rows after the header');
  return {
    cells,
    genes,
    split: Uint8Array.from(splits),
    rpkm: values.slice(0, used),
    rowOf,
    source: file,
  };
}

/** One cell's column (a copy). */
export function expressionColumn(table: ExpressionTable, cell: string): Float64Array {
  const c = table.cells.indexOf(cell);
  if (c < 0) throw new Error(`expression table ${table.source} has no cell "${cell}" (cells: ${table.cells.join(', ')})`);
  const out = new Float64Array(table.genes.length);
  for (let g = 0; g < out.length; g++) out[g] = table.rpkm[g * table.cells.length + c]!;
  return out;
}
