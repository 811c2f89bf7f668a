// Reads the comma-separated fields of one line directly from its bytes.
// Numbers are parsed without building a string in the common case (integers
// and short decimals); anything unusual (exponents, many digits, junk) takes
// a slow path that is strict about what it accepts. Every failure is a
// DataError naming the file, the line and the column.

import { DataError } from './dataset.ts';
import { MAX_MARK_VALUE, markValueProblem } from './markValues.ts';

const COMMA = 44;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const UNDERSCORE = 95;
const TAB = 9;
/** Beyond 15 digits the mantissa may not be exact in a double: use Number(). */
const FAST_DIGITS = 15;
const POW10: readonly number[] = Array.from({ length: FAST_DIGITS + 1 }, (_, i) => 10 ** i);
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NOT_FINITE = /^[+-]?(nan|inf|infinity)$/i;
/** Bytes per String.fromCharCode call: far below any engine's argument limit. */
const LATIN1_SLICE = 8192;

/** Bytes [start, end) as Latin-1 text: one character per byte, whatever the byte
 * (plain Uint8Array, so the same parser runs on a page's Blob chunks). */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += LATIN1_SLICE) {
    s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + LATIN1_SLICE)) as unknown as number[]);
  }
  return s;
}

/** The last seen value of a key field (a gene id), kept as bytes so that
 * the many rows of one gene are recognised without making a string each. */
export class FieldKey {
  private bytes: Uint8Array = new Uint8Array(64);
  private length = -1;
  private str: string | undefined;

  matches(buf: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n !== this.length) return false;
    const b = this.bytes;
    for (let i = 0; i < n; i++) if (b[i] !== buf[start + i]) return false;
    return true;
  }

  set(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n > this.bytes.length) this.bytes = new Uint8Array(Math.max(n, this.bytes.length * 2));
    this.bytes.set(buf.subarray(start, end));
    this.length = n;
    this.str = undefined;
  }

  text(): string {
    const s = this.str ?? latin1(this.bytes, 0, this.length);
    this.str = s;
    return s;
  }
}

export class LineCursor {
  /** 1-based number of the current line. */
  lineNo = 0;
  /** Expected number of columns, for messages; set by the reader. */
  columns = 0;
  /** Column names, for messages; set by the reader. */
  columnNames: readonly string[] = [];
  /** A failing line with tabs and no commas is reported as a tab-separated file (comma-separated layouts). */
  diagnoseTabs = true;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private start = 0;
  private field = 0;
  private fieldStart = 0;

  constructor(readonly file: string) {}

  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.start = start;
    this.pos = start;
    this.end = end;
    this.field = 0;
    this.lineNo++;
  }

  fail(what: string): never {
    const line = this.buf.subarray(this.start, this.end);
    // A tab-separated file fails on its first field in many ways; say what it is instead.
    if (this.diagnoseTabs && line.includes(TAB) && !line.includes(COMMA)) {
      throw new DataError(this.file, this.lineNo, 'the fields are separated by tabs; this layout is comma-separated (.csv)');
    }
    throw new DataError(this.file, this.lineNo, what);
  }

  failLineTooLong(limit: number): never {
    throw new DataError(this.file, this.lineNo + 1, `line longer than ${limit} bytes: not a CSV text file`);
  }

  /** The whole current line (for sniffing headers and for messages). */
  lineText(): string {
    return latin1(this.buf, this.start, this.end);
  }

  /** Field values of the current line as strings (headers only; slow). */
  allFields(): string[] {
    return this.lineText().split(',');
  }

  /** Parses a finite number field. */
  number(): number {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos;
    if (i > end) this.failTooFewColumns();
    this.fieldStart = i;
    let negative = false;
    if (i < end) {
      const c = buf[i];
      if (c === MINUS) {
        negative = true;
        i++;
      } else if (c === PLUS) i++;
    }
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    while (i < end) {
      const d = (buf[i] as number) - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      digits++;
      i++;
    }
    if (i < end && buf[i] === DOT) {
      i++;
      while (i < end) {
        const d = (buf[i] as number) - 48;
        if (d < 0 || d > 9) break;
        mantissa = mantissa * 10 + d;
        digits++;
        scale++;
        i++;
      }
    }
    if ((i === end || buf[i] === COMMA) && digits > 0 && digits <= FAST_DIGITS) {
      this.advance(i);
      const v = scale === 0 ? mantissa : mantissa / (POW10[scale] as number);
      return negative ? -v : v;
    }
    return this.slowNumber();
  }

  /** A mark's value in a bin (a read count or signal): markValues.ts says what is allowed. */
  count(): number {
    const v = this.number();
    if (v < 0 || v > MAX_MARK_VALUE) this.fail(`${this.column()}: ${markValueProblem(v, this.fieldText().trim()) as string}`);
    return v;
  }

  /** A non-negative position on a chromosome (no limit but a double's). */
  position(): number {
    const v = this.number();
    if (v < 0) this.fail(`${this.column()}: negative position ${this.fieldText().trim()}`);
    return v;
  }

  integer(): number {
    const v = this.number();
    if (!Number.isInteger(v)) this.fail(`${this.column()}: expected an integer, found ${quote(this.fieldText())}`);
    return v;
  }

  /** A class label: 0 or 1. */
  label(): 0 | 1 {
    const v = this.number();
    if (v !== 0 && v !== 1) this.fail(`${this.column()}: label must be 0 or 1, found ${quote(this.fieldText())}`);
    return v;
  }

  /** The field as a string. */
  text(): string {
    const e = this.fieldEnd();
    const s = latin1(this.buf, this.fieldStart, e);
    this.advance(e);
    return s;
  }

  skip(): void {
    this.advance(this.fieldEnd());
  }

  /** Reads a gene id field into `key`; returns true when it differs from the previous one. */
  keyField(key: FieldKey): boolean {
    const end = this.fieldEnd();
    const [s, e] = this.trimmed(this.fieldStart, end);
    const same = key.matches(this.buf, s, e);
    if (!same) this.takeKey(key, s, e);
    this.advance(end);
    return !same;
  }

  /**
   * Reads a `GENE_bin` field (the bin after the last underscore): the part
   * before goes into `key`; returns the bin, and sets `changed` on the result
   * holder when the gene differs from the previous one.
   */
  keyBinField(key: FieldKey, out: { changed: boolean }): number {
    const buf = this.buf;
    const end = this.fieldEnd();
    const [s, e] = this.trimmed(this.fieldStart, end);
    let u = e - 1;
    while (u >= s && buf[u] !== UNDERSCORE) u--;
    if (u < s || u === e - 1 || u === s) {
      this.fail(`${this.column(this.field)}: expected GENE_bin (e.g. ENSG00000130749_ZC3H4_1), found ${quote(latin1(buf, s, e))}`);
    }
    let bin = 0;
    for (let i = u + 1; i < e; i++) {
      const d = (buf[i] as number) - 48;
      if (d < 0 || d > 9 || i - u > 9) {
        this.fail(`${this.column(this.field)}: bin number after the last "_" is not a positive integer in ${quote(latin1(buf, s, e))}`);
      }
      bin = bin * 10 + d;
    }
    out.changed = !key.matches(buf, s, u);
    if (out.changed) this.takeKey(key, s, u);
    this.advance(end);
    return bin;
  }

  /** Fails unless every column of the line has been read. */
  finish(): void {
    if (this.pos <= this.end) {
      let n = this.field + 1;
      for (let i = this.pos; i < this.end; i++) if (this.buf[i] === COMMA) n++;
      this.fail(`expected ${this.columns} columns, found ${n}`);
    }
  }

  /** "column 3 (H3K27me3)": by default the field just read; `index` (0-based) names another. */
  column(index = this.field - 1): string {
    const name = this.columnNames[index];
    return name === undefined ? `column ${index + 1}` : `column ${index + 1} (${name})`;
  }

  private takeKey(key: FieldKey, s: number, e: number): void {
    if (e === s) this.fail(`${this.column(this.field)}: empty gene id`);
    for (let i = s; i < e; i++) {
      const c = this.buf[i] as number;
      if (c < 0x21 || c > 0x7e) {
        const what = c === 0x20 ? 'a space' : c === TAB ? 'a tab' : `the byte 0x${c.toString(16).padStart(2, '0')}, which is not printable ASCII`;
        this.fail(`${this.column(this.field)}: gene id ${quote(latin1(this.buf, s, e))} contains ${what} (character ${i - s + 1})`);
      }
    }
    key.set(this.buf, s, e);
  }

  /** [s, e) without the spaces and tabs around it: surrounding whitespace is unambiguous, so it is accepted. */
  private trimmed(s: number, e: number): [number, number] {
    const buf = this.buf;
    while (s < e && (buf[s] === 0x20 || buf[s] === TAB)) s++;
    while (e > s && (buf[e - 1] === 0x20 || buf[e - 1] === TAB)) e--;
    return [s, e];
  }

  private fieldEnd(): number {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos;
    if (i > end) this.failTooFewColumns();
    this.fieldStart = i;
    while (i < end && buf[i] !== COMMA) i++;
    return i;
  }

  private fieldText(): string {
    const e = Math.min(this.pos - 1, this.end);
    return latin1(this.buf, this.fieldStart, e);
  }

  /** Moves past the field ending at `i` (a comma or the end of the line). */
  private advance(i: number): void {
    this.pos = i + 1;
    this.field++;
  }

  private failTooFewColumns(): never {
    this.fail(`expected ${this.columns} columns, found ${this.field}`);
  }

  private slowNumber(): number {
    const end = this.fieldEnd();
    const [from, to] = this.trimmed(this.fieldStart, end);
    const s = latin1(this.buf, from, to);
    this.advance(end);
    if (DECIMAL.test(s)) {
      const v = Number(s);
      if (Number.isFinite(v)) return v;
      this.fail(`${this.column()}: ${quote(s)} is not a finite number`);
    }
    if (NOT_FINITE.test(s)) this.fail(`${this.column()}: ${quote(s)} is not allowed (NaN or infinite)`);
    if (s.length === 0) this.fail(`${this.column()}: empty field, expected a number`);
    this.fail(`${this.column()}: ${quote(s)} is not a number`);
  }
}

export function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
