// Reader for the AttentiveChrome v2 / DeepDiffChrome layout:
//   <prefix>.{train,valid,test}.csv[.gz]  rows ENSG_SYMBOL_bin,<5 marks>
//   <prefix>.expr.csv[.gz]                rows ENSG,value (no label column)
// The marks' column order is H3K4me1,H3K4me3,H3K9me3,H3K27me3,H3K36me3 unless
// a header row names them; either way they are mapped by name onto MARKS.
// Labels come from thresholding the expression file (default: its median).
// This module parses rows from any line source (disk: attentiveChrome.ts;
// a page's Files: blobLines.ts).

import { DataError, MARKS, repeatsNote, type Dataset, type Mark, type Split } from './dataset.ts';
import { GeneRowTable } from './geneRows.ts';
import { FieldKey, quote, type LineCursor } from './lineCursor.ts';
import type { ReadLines } from './lineSplitter.ts';
import type { SplitFile } from './sourceFiles.ts';

/** Shortest realistic row, "ENSG00000000003_A_1,0,0,0,0,0\n" is 30 bytes: rows ≤ bytes / this. */
const MIN_ROW_BYTES = 28;

/** The documented column order of the marks when the file has no header. */
export const ATTENTIVECHROME_MARK_COLUMNS: readonly Mark[] = ['H3K4me1', 'H3K4me3', 'H3K9me3', 'H3K27me3', 'H3K36me3'];

/** label = 1 when expression > threshold; the threshold is a value or a quantile of the expression file. */
export type LabelThreshold = { readonly value: number } | { readonly quantile: number };

export interface AttentiveChromeOptions {
  /** Dataset.cell; default: the prefix's name (e.g. "Cell2"). */
  readonly cell?: string;
  /** Keep only this many central bins (100 of 200 → bins 51..150). */
  readonly centralBins?: number;
  /** Default: { quantile: 0.5 }, the median over all genes of the expression file. */
  readonly threshold?: LabelThreshold;
}

export interface AttentiveChromeFiles {
  readonly cell: string;
  readonly files: readonly SplitFile[];
  readonly expr: string;
}

/** Reads the split files and the expression file of `resolved`, each through `lines`. */
export async function readAttentiveChromeSplits(resolved: AttentiveChromeFiles, opts: AttentiveChromeOptions, lines: ReadLines): Promise<Dataset> {
  const threshold = opts.threshold ?? { quantile: 0.5 };
  checkThreshold(threshold);
  if (opts.centralBins !== undefined && !(Number.isInteger(opts.centralBins) && opts.centralBins >= 1)) {
    throw new RangeError(`centralBins must be a positive integer, got ${opts.centralBins}`);
  }
  const table = new GeneRowTable(MARKS.length);
  for (const f of resolved.files) await readMarksFile(f.path, f.split, table, lines);
  const expression = await readExpressionWith(resolved.expr, lines);
  const cut = thresholdValue(expression.values, threshold);

  const r = table.result();
  const labels = r.labels;
  table.geneIds.forEach((id, g) => {
    const v = expression.byGene.get(id);
    if (v === undefined) {
      const o = table.origin(id);
      throw new DataError(o.file, o.line, `gene ${id} has no expression value in ${resolved.expr}`);
    }
    labels[g] = v > cut ? 1 : 0;
  });

  let { features, bins } = r;
  if (opts.centralBins !== undefined && opts.centralBins !== bins) {
    const first = resolved.files[0] as SplitFile;
    if (opts.centralBins > bins) {
      throw new DataError(first.path, undefined, `centralBins ${opts.centralBins} is more than the ${bins} bins per gene in the data`);
    }
    features = centralWindow(features, table.genes, bins, opts.centralBins);
    bins = opts.centralBins;
  }
  return {
    cell: opts.cell ?? resolved.cell,
    genes: table.genes,
    bins,
    marks: MARKS,
    features,
    labels,
    split: r.split,
    geneIds: table.geneIds,
    source: [...resolved.files.map((f) => f.path), resolved.expr],

    ...(table.droppedRepeats.length > 0 ? { notes: repeatsNote(table.droppedRepeats) } : {}),
  };
}

/** Keeps bins [s, s + keep) of each gene, s = floor((bins - keep) / 2): 51..150 of 1..200. */
function centralWindow(features: Float32Array, genes: number, bins: number, keep: number): Float32Array {
  const m = MARKS.length;
  const s = Math.floor((bins - keep) / 2);
  const out = new Float32Array(genes * keep * m);
  for (let g = 0; g < genes; g++) {
    const from = (g * bins + s) * m;
    out.set(features.subarray(from, from + keep * m), g * keep * m);
  }
  return out;
}

async function readMarksFile(path: string, split: Split, table: GeneRowTable, readLines: ReadLines): Promise<void> {
  table.startFile(path, split);
  const key = new FieldKey();
  const seen = { changed: false };
  const id = (): string => ensemblIdOf(key.text());
  // Column j (after the gene_bin column) holds mark order[j] of MARKS.
  let order = ATTENTIVECHROME_MARK_COLUMNS.map((mk) => MARKS.indexOf(mk));
  let names: readonly string[] = ['ENSG_SYMBOL_bin', ...ATTENTIVECHROME_MARK_COLUMNS];
  let o0 = 0;
  let o1 = 0;
  let o2 = 0;
  let o3 = 0;
  let o4 = 0;
  const setOrder = (): void => {
    [o0, o1, o2, o3, o4] = order as [number, number, number, number, number];
  };
  setOrder();
  await readLines(path, (cur: LineCursor) => {
    cur.columns = 6;
    cur.columnNames = names;
    if (cur.lineNo === 1 && looksLikeHeader(cur)) {
      const header = parseHeader(cur);
      order = header.order;
      names = header.names;
      setOrder();
      return;
    }
    const bin = cur.keyBinField(key, seen);
    const o = table.row(cur, seen.changed, id, bin);
    const f = table.features;
    f[o + o0] = cur.count();
    f[o + o1] = cur.count();
    f[o + o2] = cur.count();
    f[o + o3] = cur.count();
    f[o + o4] = cur.count();
    cur.finish();
  }, { onOpen: (bytes) => table.reserve(Math.ceil(bytes / MIN_ROW_BYTES)) });
  table.endFile();
}

/** A header row has a mark name, not a number, in its second column. */
function looksLikeHeader(cur: LineCursor): boolean {
  const second = cur.lineText().split(',', 2)[1];
  return second !== undefined && /^[A-Za-z]/.test(second);
}

function parseHeader(cur: LineCursor): { order: number[]; names: string[] } {
  const fields = cur.allFields();
  if (fields.length !== 6) cur.fail(`header: expected 6 columns (gene_bin and 5 marks), found ${fields.length}`);
  const order: number[] = [];
  for (const name of fields.slice(1)) {
    const m = MARKS.findIndex((mk) => mk.toLowerCase() === name.trim().toLowerCase());
    if (m < 0) cur.fail(`header: unknown mark ${quote(name)} (expected the marks ${MARKS.join(', ')})`);
    if (order.includes(m)) cur.fail(`header: mark ${MARKS[m]} appears twice`);
    order.push(m);
  }
  return { order, names: [fields[0] as string, ...order.map((m) => MARKS[m] as string)] };
}

/** ENSG00000130749 from ENSG00000130749_ZC3H4. */
function ensemblIdOf(key: string): string {
  const u = key.indexOf('_');
  return u < 0 ? key : key.slice(0, u);
}

export interface Expression {
  readonly byGene: ReadonlyMap<string, number>;
  /** All values, in file order. */
  readonly values: Float64Array;
}

/** Reads `ENSG,value` rows (no header) through `readLines`. */
export async function readExpressionWith(path: string, readLines: ReadLines): Promise<Expression> {
  const byGene = new Map<string, number>();
  const firstLine = new Map<string, number>();
  let values = new Float64Array(1 << 15);
  const names = ['gene', 'expression'];
  await readLines(path, (cur) => {
    cur.columns = 2;
    cur.columnNames = names;
    const gene = cur.text();
    if (gene.length === 0) cur.fail('column 1 (gene): empty gene id');
    const v = cur.number();
    cur.finish();
    const prev = firstLine.get(gene);
    if (prev !== undefined) cur.fail(`duplicate gene ${gene} in the expression file (first at line ${prev})`);
    firstLine.set(gene, cur.lineNo);
    byGene.set(gene, v);
    if (byGene.size > values.length) {
      const next = new Float64Array(values.length * 2);
      next.set(values);
      values = next;
    }
    values[byGene.size - 1] = v;
  });
  return { byGene, values: values.slice(0, byGene.size) };
}

function checkThreshold(t: LabelThreshold): void {
  if ('quantile' in t) {
    if (!(t.quantile >= 0 && t.quantile <= 1)) throw new RangeError(`threshold quantile must be in [0, 1], got ${t.quantile}`);
  } else if (!Number.isFinite(t.value)) {
    throw new RangeError(`threshold value must be finite, got ${t.value}`);
  }
}

/** The threshold as a value; quantiles interpolate linearly between order statistics (numpy's default). */
export function thresholdValue(values: Float64Array, t: LabelThreshold): number {
  if ('value' in t) return t.value;
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * t.quantile;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}
