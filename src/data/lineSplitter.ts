// Cuts a stream of byte chunks into lines for a LineCursor: the part of
// reading a text file that is the same for a file on disk (lineReader.ts) and
// for a File or Blob in a page (blobLines.ts). Only one chunk plus at most one
// partial line is alive at a time.

import { DataError } from './dataset.ts';
import type { LineCursor } from './lineCursor.ts';

/** A "line" longer than this is not CSV (binary garbage, a corrupt file without newlines). */
export const MAX_LINE_BYTES = 1 << 20;

export interface LineStats {
  /** Number of lines handed to the callback. */
  readonly lines: number;
  /** Bytes on disk. */
  readonly fileBytes: number;
  /** Bytes after decompression (equal to fileBytes for plain files). */
  readonly textBytes: number;
  readonly gzip: boolean;
}

export interface ReadLinesOptions {
  /**
   * Called once the file is open, with its size in text bytes: exact for
   * plain files, from the gzip trailer's ISIZE (size mod 2^32 of the last
   * member) for gzip, which is only a hint. Lets readers size buffers once.
   */
  readonly onOpen?: (textBytesHint: number) => void;
  /** 'comma' (the default, the CSV layouts): an error on a line with tabs and
   * no commas says the file is tab-separated; 'any' (BED, GTF, expression
   * tables, which are tab-separated themselves): it says what the reader said. */
  readonly separators?: 'comma' | 'any';
}

/** How a reader gets at the lines of a named file: from disk, or from a dropped File. */
export type ReadLines = (file: string, onLine: (line: LineCursor) => void, opts?: ReadLinesOptions) => Promise<LineStats>;

/** True when the first two bytes are the gzip magic 1f 8b. */
export function isGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** A gzip trailer's ISIZE as a size hint; a damaged one must not make a reader allocate gigabytes (CSV rarely deflates 16:1). */
export function gzipSizeHint(trailer: Uint8Array, fileBytes: number): number {
  const isize = ((trailer[0] as number) | ((trailer[1] as number) << 8) | ((trailer[2] as number) << 16)) + (trailer[3] as number) * 2 ** 24;
  return Math.min(isize, fileBytes * 16);
}

/** A stream's failure that is the file's as a whole, not any line's: bytes after the end of a complete gzip stream. */
export const TRAILING_GZIP_DATA =
  'trailing data after the gzip stream: bytes follow the end of the compressed data (appended to the file, or two files joined?); the file is damaged, so it is not used';

/** Turns a failure of the byte stream itself (I/O, decompression) into words (TRAILING_GZIP_DATA for trailing data). */
export type DescribeStreamError = (err: unknown, gzip: boolean) => string;

/**
 * Hands every line of `chunks` to onLine through `cursor` and returns the
 * number of text bytes seen. Stream failures become DataErrors at the line
 * they interrupt; what onLine throws passes through untouched, except that in
 * gzip data a bad line is first checked against the rest of the stream (damaged
 * deflate data can decode to garbage before the checksum says so).
 */
export async function splitLines(
  file: string,
  chunks: AsyncIterator<Uint8Array>,
  gzip: boolean,
  cursor: LineCursor,
  onLine: (line: LineCursor) => void,
  describeStreamError: DescribeStreamError,
): Promise<number> {
  let textBytes = 0;
  let carry: Uint8Array | undefined;
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await chunks.next();
      } catch (err) {
        finished = true;
        // A DataError is the source's own refusal (a size limit), already in words and about the whole file.
        if (err instanceof DataError) throw err;
        const what = describeStreamError(err, gzip);
        throw new DataError(file, what === TRAILING_GZIP_DATA ? undefined : cursor.lineNo + 1, what);
      }
      if (next.done === true) {
        finished = true;
        break;
      }
      const chunk = next.value;
      textBytes += chunk.length;
      let start = 0;
      if (carry !== undefined) {
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          if (carry.length + chunk.length > MAX_LINE_BYTES) cursor.failLineTooLong(MAX_LINE_BYTES);
          carry = concat(carry, chunk, chunk.length);
          continue;
        }
        const joined = concat(carry, chunk, nl);
        carry = undefined;
        emit(cursor, joined, 0, joined.length, onLine);
        start = nl + 1;
      }
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) break;
        emit(cursor, chunk, start, nl, onLine);
        start = nl + 1;
      }
      if (start < chunk.length) {
        if (chunk.length - start > MAX_LINE_BYTES) cursor.failLineTooLong(MAX_LINE_BYTES);
        // A copy: the partial line must outlive its chunk.
        carry = chunk.slice(start);
      }
    }
  } catch (err) {
    if (gzip && !finished && err instanceof DataError) {
      finished = true;
      const damage = await streamDamage(chunks, gzip, describeStreamError);
      if (damage !== undefined) throw new DataError(file, undefined, `${damage}: the file is damaged (what it decoded to fails at line ${err.line ?? '?'})`);
    }
    throw err;
  } finally {
    // Stops and releases the stream when onLine threw.
    if (!finished) await chunks.return?.();
  }
  if (carry !== undefined) emit(cursor, carry, 0, carry.length, onLine);
  if (cursor.lineNo === 0) throw new DataError(file, undefined, gzip ? 'empty file (the gzip stream holds no text)' : 'empty file');
  return textBytes;
}

function concat(head: Uint8Array, chunk: Uint8Array, upTo: number): Uint8Array {
  const out = new Uint8Array(head.length + upTo);
  out.set(head, 0);
  out.set(chunk.subarray(0, upTo), head.length);
  return out;
}

/** Reads the rest of a stream only to learn whether it fails; returns the failure in words. */
async function streamDamage(chunks: AsyncIterator<Uint8Array>, gzip: boolean, describe: DescribeStreamError): Promise<string | undefined> {
  try {
    for (;;) if ((await chunks.next()).done === true) return undefined;
  } catch (err) {
    return describe(err, gzip);
  }
}

function emit(cursor: LineCursor, buf: Uint8Array, start: number, end: number, onLine: (line: LineCursor) => void): void {
  if (end > start && buf[end - 1] === 13) end--;
  // A UTF-8 byte-order mark before the first line (some editors write one) is not part of the data.
  if (cursor.lineNo === 0 && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  cursor.reset(buf, start, end);
  if (end === start) cursor.fail('blank line');
  onLine(cursor);
}
