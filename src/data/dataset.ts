// The one in-memory form every reader produces and every model consumes.
// Features are genes × bins × marks, row-major, float32, so that the whole
// cell goes to the GPU in one copy.

/** The five marks of DeepChrome's layout, in its order. Readers map columns by name onto this order; a
 * cell from bigWig tracks may hold any marks (markOrder). */
export const MARKS = ['H3K27me3', 'H3K36me3', 'H3K4me1', 'H3K4me3', 'H3K9me3'] as const;
export type Mark = (typeof MARKS)[number];

/** The order a set of marks is held in: the five of MARKS first, in its order, then the others by name. */
export function markOrder(marks: readonly string[]): string[] {
  const rank = (m: string): number => {
    const i = (MARKS as readonly string[]).indexOf(m);
    return i < 0 ? MARKS.length : i;
  };
  return [...marks].sort((a, b) => rank(a) - rank(b) || (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
}

/** True when `marks` are the five of MARKS in its order (what the DeepChrome layout holds). */
export function hasCanonicalMarks(marks: readonly string[]): boolean {
  return marks.length === MARKS.length && marks.every((m, i) => m === MARKS[i]);
}

/** Why a model fitted on marks `model` cannot read data with marks `data` (names, order), or undefined when it can. */
export function marksMismatch(model: readonly string[], data: readonly string[]): string | undefined {
  if (model.length === data.length && model.every((m, i) => m === data[i])) return undefined;
  return `the model was trained on the marks [${model.join(', ')}], the data has [${data.join(', ')}]; a model reads the marks it was trained on, in their order`;
}

/** Every reader puts each gene in one of these; a source that gives fewer splits (one split file) has only those. */
export const SPLITS = ['train', 'valid', 'test'] as const;
export type Split = (typeof SPLITS)[number];
export const SPLIT_CODES: Readonly<Record<Split, number>> = { train: 0, valid: 1, test: 2 };

/** The split a SPLIT_CODES value stands for. */
export function splitName(code: number): Split {
  const split = SPLITS.find((s) => SPLIT_CODES[s] === code);
  if (split === undefined) throw new RangeError(`split code ${code}: expected ${SPLITS.map((s) => `${SPLIT_CODES[s]} (${s})`).join(', ')}`);
  return split;
}

export interface Dataset {
  /** Cell type (e.g. "E003") or a description of the source. */
  readonly cell: string;
  readonly genes: number;
  readonly bins: number;
  /** Mark names in feature order: MARKS for the preprocessed layouts, markOrder of the tracks for bigWig cells. */
  readonly marks: readonly string[];
  /** [genes, bins, marks], row-major. */
  readonly features: Float32Array;
  /** 0 or 1 per gene. */
  readonly labels: Uint8Array;
  /** log10(RPKM + 1) per gene, present when the run's target is expression (expressionTargets.ts; never cached). */
  readonly expression?: Float32Array;
  /** SPLIT_CODES per gene. */
  readonly split: Uint8Array;
  /** Gene identifiers as the source names them (e.g. "130749" or "ENSG00000130749"). */
  readonly geneIds: readonly string[];
  /** Where the data came from (paths), for metrics.json and error messages. */
  readonly source: readonly string[];
  /** Mask of valid bins per gene ([genes, bins], 1 = real data); absent when every bin is real. */
  readonly binMask?: Uint8Array;
  /** What the reader changed on the way, for the user to see (e.g. repeated genes dropped). */
  readonly notes?: readonly string[];
}

/** The note a reader attaches when it dropped genes repeated with identical rows. */
export function repeatsNote(dropped: readonly string[]): string[] {
  if (dropped.length === 0) return [];
  const shown = dropped.slice(0, 5).join(', ');
  return [`dropped ${dropped.length} repeated gene(s) whose rows equal their first copy: ${shown}${dropped.length > 5 ? ', …' : ''}`];
}

/** Error for bad input: always `file:line: what is wrong`. */
export class DataError extends Error {
  override name = 'DataError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    what: string,
  ) {
    super(line === undefined ? `${file}: ${what}` : `${file}:${line}: ${what}`);
  }
}
