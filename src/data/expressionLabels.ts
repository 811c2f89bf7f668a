// The expression table of a bigWig-backed cell: `gene_id, value` per line
// (tab- or comma-separated, with or without a header), optionally with a
// label column. Labels come from that column, or from thresholding the value
// (by default at the median over every gene of the table, as DeepChrome and
// GC-MERGE label theirs).

import { type LabelThreshold, thresholdValue } from './attentiveChrome.ts';
import { DataError } from './dataset.ts';
import { readLines } from './lineReader.ts';

export type LabelRule = { readonly column: string } | { readonly threshold: LabelThreshold };

export interface ExpressionLabelOptions {
  /** Header name of the value column (default: the second column). */
  readonly valueColumn?: string;
  /** Default: threshold at the median of the value column. */
  readonly labels?: LabelRule;
}

export interface ExpressionLabels {
  readonly path: string;
  readonly labelOf: ReadonlyMap<string, 0 | 1>;
  /** How the labels were made, for notes and metadata. */
  readonly rule: string;
  /** Genes listed again with the same value (dropped). */
  readonly repeated: readonly string[];
}

export async function readExpressionLabels(path: string, opts: ExpressionLabelOptions = {}): Promise<ExpressionLabels> {
  const ids: string[] = [];
  const firstLine = new Map<string, { line: number; gene: number }>();
  const repeated: string[] = [];
  let values = new Float64Array(1 << 15);
  let given = new Uint8Array(1 << 15);
  let sep = '\t';
  let header: string[] | undefined;
  let valueAt = 1;
  let labelAt = -1;
  const rule = opts.labels ?? { threshold: { quantile: 0.5 } };
  await readLines(path, (cur) => {
    const line = cur.lineText();
    if (cur.lineNo === 1) {
      sep = line.includes('\t') ? '\t' : ',';
      const f = line.split(sep).map((s) => s.trim());
      if (f.length < 2) cur.fail(`expected at least 2 columns (gene_id, value) separated by tabs or commas, found ${f.length}`);
      const looksLikeHeader = !isNumber(f[1] as string);
      if (looksLikeHeader) header = f;
      const find = (name: string, what: string): number => {
        const header = looksLikeHeader ? f : undefined;
        if (header === undefined) return cur.fail(`${what} ${JSON.stringify(name)} asked for, but the table has no header line`);
        const i = header.indexOf(name);
        if (i < 0) cur.fail(`no ${what} ${JSON.stringify(name)} in the header (columns: ${header.join(', ')})`);
        if (i === 0) cur.fail(`${what} ${JSON.stringify(name)} is the gene id column`);
        return i;
      };
      if (opts.valueColumn !== undefined) valueAt = find(opts.valueColumn, 'value column');
      if ('column' in rule) labelAt = find(rule.column, 'label column');
      if (looksLikeHeader) return;
    }
    const f = line.split(sep);
    const width = header?.length ?? 2;
    if (f.length !== width && !(header === undefined && f.length >= 2)) cur.fail(`expected ${width} columns, found ${f.length}`);
    const id = (f[0] as string).trim();
    if (!/^[\x21-\x7e]+$/.test(id)) cur.fail(`column 1 (gene id): ${JSON.stringify(id)} is empty or not printable ASCII`);
    const text = (f[valueAt] as string).trim();
    if (!isNumber(text)) cur.fail(`column ${valueAt + 1}${header ? ` (${header[valueAt]})` : ''}: ${JSON.stringify(text)} is not a finite number`);
    const label = labelAt >= 0 ? (f[labelAt] as string).trim() : '';
    const prev = firstLine.get(id);
    if (prev !== undefined) {
      // Published tables repeat some genes with identical rows; only a second, different value is ambiguous.
      const same = values[prev.gene] === Number(text) && (labelAt < 0 || given[prev.gene] === (label === '1' ? 1 : 0));
      if (!same) cur.fail(`gene ${id} appears twice with different values (first at line ${prev.line})`);
      repeated.push(id);
      return;
    }
    const g = ids.length;
    firstLine.set(id, { line: cur.lineNo, gene: g });
    if (g === values.length) {
      values = grown(values, g * 2);
      given = grown(given, g * 2);
    }
    values[g] = Number(text);
    if (labelAt >= 0) {
      if (label !== '0' && label !== '1') cur.fail(`column ${labelAt + 1} (${header?.[labelAt]}): label must be 0 or 1, found ${JSON.stringify(label)}`);
      given[g] = label === '1' ? 1 : 0;
    }
    ids.push(id);
  }, { separators: 'any' });
  if (ids.length === 0) throw new DataError(path, 1, 'header only, no genes');
  const all = values.subarray(0, ids.length);
  const labelOf = new Map<string, 0 | 1>();
  let described: string;
  if ('column' in rule) {
    ids.forEach((id, g) => labelOf.set(id, given[g] === 1 ? 1 : 0));
    described = `labels from column ${rule.column}`;
  } else {
    const cut = thresholdValue(all, rule.threshold);
    ids.forEach((id, g) => labelOf.set(id, (all[g] as number) > cut ? 1 : 0));
    const col = header?.[valueAt] ?? `column ${valueAt + 1}`;
    described = 'value' in rule.threshold ? `label 1 when ${col} > ${cut}` : `label 1 when ${col} > ${cut} (its ${rule.threshold.quantile} quantile over the ${ids.length} genes of the table)`;
  }
  return { path, labelOf, rule: described, repeated };
}

function isNumber(s: string): boolean {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s.trim()) && Number.isFinite(Number(s));
}

function grown<T extends Float64Array | Uint8Array>(a: T, n: number): T {
  const next = new (a.constructor as new (n: number) => T)(n);
  next.set(a);
  return next;
}
