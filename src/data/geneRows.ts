// Collects "one row per (gene, bin)" data — the DeepChrome and AttentiveChrome
// layouts — into the genes × bins × marks array, checking on the way that each
// gene's rows are contiguous, numbered 1..N in order, that every gene has the
// N bins of the first gene, and that no gene occurs twice with different
// rows (in one file or across the split files of one cell). A gene repeated
// with exactly the same rows and label is dropped and reported: gene tables
// built from Ensembl lists carry a few ids twice (the Roadmap RPKM table has
// 7), and refusing a whole cell for a harmless copy helps no one. Rows are
// appended in file order, so the row-major array is already the Dataset's
// layout.

import { DataError, SPLIT_CODES, type Split } from './dataset.ts';
import type { LineCursor } from './lineCursor.ts';

interface GeneSeen {
  /** Row of the gene in the output. */
  readonly gene: number;
  readonly file: string;
  readonly firstLine: number;
  lastLine: number;
  lastBin: number;
}

interface Incomplete {
  readonly id: string;
  readonly file: string;
  readonly line: number;
  readonly lastBin: number;
}

const INITIAL_ROWS = 1 << 14;
/** A reservation never allocates more than this many rows up front (a damaged size hint must not). */
const MAX_RESERVE_ROWS = 1 << 22;

export class GeneRowTable {
  /** Bins per gene, known once the first gene ends. */
  bins: number | undefined;
  readonly geneIds: string[] = [];
  private featureData: Float32Array;
  private labelData: Uint8Array;
  private splitData: Uint8Array;
  private rows = 0;
  private readonly seen = new Map<string, GeneSeen>();
  private first: { id: string; file: string; line: number } | undefined;
  private current: GeneSeen | undefined;
  private currentId = '';
  private labelSet = false;
  private file = '';
  private splitCode = 0;
  /** A gene that stopped short; reported once the next gene ends, unless its rows resume (then the message says so). */
  private incomplete: Incomplete | undefined;
  /** Set while the current gene repeats an earlier one: the earlier copy. */
  private repeatOf: GeneSeen | undefined;
  /** Repeated genes dropped because their rows equal the first copy's, as `id (file:line)`. */
  readonly droppedRepeats: string[] = [];

  constructor(readonly marks: number) {
    this.featureData = new Float32Array(INITIAL_ROWS * marks);
    this.labelData = new Uint8Array(INITIAL_ROWS / 16);
    this.splitData = new Uint8Array(INITIAL_ROWS / 16);
  }

  get genes(): number {
    return this.geneIds.length;
  }

  /** The feature array; it may be replaced by row(), so fetch it after each row() call. */
  get features(): Float32Array {
    return this.featureData;
  }

  /** Makes room for `rows` more rows at once (an estimate; rows beyond it still fit). */
  reserve(rows: number): void {
    const need = (this.rows + Math.max(0, Math.min(rows, MAX_RESERVE_ROWS))) * this.marks;
    if (need > this.featureData.length) this.resize(need);
  }

  startFile(file: string, split: Split): void {
    this.file = file;
    this.splitCode = SPLIT_CODES[split];
    this.current = undefined;
  }

  /**
   * Registers one row. `changed` says the gene key differs from the previous
   * row's; `id` is called only then. Returns the offset of the row's marks.
   */
  row(cur: LineCursor, changed: boolean, id: () => string, bin: number): number {
    const current = this.current;
    if (changed || current === undefined) {
      this.startGene(cur, id(), bin);
    } else if (bin === 1 && current.lastBin > 1 && (this.bins === undefined || current.lastBin === this.bins)) {
      // The same gene again, straight after a complete copy of itself.
      this.startGene(cur, this.currentId, bin);
    } else {
      const last = current.lastBin;
      if (bin !== last + 1) {
        const gene = this.currentId;
        if (bin === last) cur.fail(`gene ${gene}: bin ${bin} is duplicated`);
        if (bin < last) cur.fail(`gene ${gene}: bin ${bin} is out of order (after bin ${last})`);
        cur.fail(`gene ${gene}: ${missing(last + 1, bin - 1)} (found bin ${bin} after bin ${last})`);
      }
      if (this.bins !== undefined && bin > this.bins) {
        const f = this.first as { id: string; file: string; line: number };
        cur.fail(`gene ${this.currentId} has more than ${this.bins} bins (bin ${bin}); the first gene, ${f.id} at ${f.file}:${f.line}, has ${this.bins}`);
      }
      current.lastBin = bin;
      current.lastLine = cur.lineNo;
    }
    const r = this.rows++;
    if (this.rows * this.marks > this.featureData.length) this.grow();
    return r * this.marks;
  }

  /** Sets the current gene's label from a row; all rows of a gene must agree. */
  label(cur: LineCursor, value: 0 | 1): void {
    const g = this.geneIds.length - 1;
    if (!this.labelSet) {
      this.labelData[g] = value;
      this.labelSet = true;
    } else if (this.labelData[g] !== value) {
      cur.fail(`gene ${this.currentId}: label changes from ${this.labelData[g]} to ${value} within the gene`);
    }
  }

  /** Where a gene's rows start. */
  origin(id: string): { file: string; line: number } {
    const s = this.seen.get(id);
    if (s === undefined) throw new RangeError(`unknown gene ${id}`);
    return { file: s.file, line: s.firstLine };
  }

  /** Closes the current file: its last gene must be complete. */
  endFile(): void {
    const pending = this.incomplete;
    this.incomplete = undefined;
    this.closeGene();
    const short = pending ?? this.incomplete;
    if (short !== undefined) this.reportIncomplete(short);
  }

  /** Trimmed copies (or exact views) of the collected arrays. */
  result(): { features: Float32Array; labels: Uint8Array; split: Uint8Array; bins: number } {
    const genes = this.genes;
    const bins = this.bins ?? 0;
    return {
      features: trim(this.featureData, genes * bins * this.marks),
      labels: trim(this.labelData, genes),
      split: trim(this.splitData, genes),
      bins,
    };
  }

  private startGene(cur: LineCursor, id: string, bin: number): void {
    const pending = this.incomplete;
    this.incomplete = undefined;
    this.closeGene();
    const seen = this.seen.get(id);
    if (seen !== undefined && bin === seen.lastBin + 1 && seen.file === this.file) {
      cur.fail(
        `rows of gene ${id} are not contiguous: bins 1–${seen.lastBin} are at lines ${seen.firstLine}–${seen.lastLine}, other genes follow, and bin ${bin} continues here`,
      );
    }
    if (pending !== undefined) this.reportIncomplete(pending);
    if (bin !== 1) cur.fail(`gene ${id} starts at bin ${bin}; expected bin 1`);
    const g = this.geneIds.length;
    if (g >= this.labelData.length) {
      this.labelData = growBytes(this.labelData);
      this.splitData = growBytes(this.splitData);
    }
    this.geneIds.push(id);
    this.splitData[g] = this.splitCode;
    this.labelSet = false;
    this.currentId = id;
    const entry: GeneSeen = { gene: g, file: this.file, firstLine: cur.lineNo, lastLine: cur.lineNo, lastBin: 1 };
    // A repeat is read like any gene, then compared with its first copy when it ends.
    this.repeatOf = seen;
    if (seen === undefined) this.seen.set(id, entry);
    this.current = entry;
    this.first ??= { id, file: this.file, line: cur.lineNo };
  }

  private closeGene(): void {
    const c = this.current;
    if (c === undefined) return;
    this.current = undefined;
    const repeatOf = this.repeatOf;
    this.repeatOf = undefined;
    if (this.bins === undefined) {
      this.bins = c.lastBin;
      return;
    }
    if (c.lastBin !== this.bins) {
      this.incomplete = { id: this.currentId, file: c.file, line: c.lastLine, lastBin: c.lastBin };
      return;
    }
    if (repeatOf !== undefined) this.dropRepeat(c, repeatOf);
  }

  /** Drops a complete repeat identical to its first copy; a repeat that differs is an error. */
  private dropRepeat(copy: GeneSeen, first: GeneSeen): void {
    const id = this.currentId;
    const width = (this.bins as number) * this.marks;
    const a = this.featureData.subarray(first.gene * width, (first.gene + 1) * width);
    const b = this.featureData.subarray(copy.gene * width, (copy.gene + 1) * width);
    const same = this.labelData[first.gene] === this.labelData[copy.gene] && a.every((v, i) => Object.is(v, b[i]));
    if (!same) {
      throw new DataError(
        copy.file,
        copy.firstLine,
        `duplicate gene ${id}: its rows (lines ${copy.firstLine}–${copy.lastLine}) differ from those at ${first.file}:${first.firstLine}–${first.lastLine}`,
      );
    }
    this.geneIds.pop();
    this.rows -= this.bins as number;
    this.droppedRepeats.push(`${id} (${copy.file}:${copy.firstLine})`);
  }

  private reportIncomplete(inc: Incomplete): never {
    const f = this.first as { id: string; file: string; line: number };
    throw new DataError(
      inc.file,
      inc.line,
      `gene ${inc.id} ends at bin ${inc.lastBin}: ${missing(inc.lastBin + 1, this.bins as number)} (the first gene, ${f.id} at ${f.file}:${f.line}, has ${this.bins} bins)`,
    );
  }

  private grow(): void {
    this.resize(this.featureData.length * 2);
  }

  private resize(length: number): void {
    const next = new Float32Array(length);
    next.set(this.featureData.subarray(0, this.rows * this.marks));
    this.featureData = next;
  }
}

function missing(a: number, b: number): string {
  return a === b ? `bin ${a} is missing` : `bins ${a}–${b} are missing`;
}

function growBytes(a: Uint8Array): Uint8Array {
  const next = new Uint8Array(a.length * 2);
  next.set(a);
  return next;
}

function trim<T extends Float32Array | Uint8Array>(a: T, n: number): T {
  return (a.length === n ? a : a.slice(0, n)) as T;
}
