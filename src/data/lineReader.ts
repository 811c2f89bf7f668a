// Streams a text file line by line, plain or gzip (told apart by the gzip
// magic bytes, not by the name), without ever holding the decompressed file:
// only one chunk plus at most one partial line is alive at a time. Each line
// is handed to the caller as a LineCursor over the chunk's bytes, so parsers
// read numbers straight from bytes instead of building strings per field.

import { open } from 'node:fs/promises';
import { pipeline, type Readable, type TransformOptions } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { DataError } from './dataset.ts';
import { LineCursor } from './lineCursor.ts';

const CHUNK_BYTES = 1 << 18;
/** Decompressed text zlib may run ahead of the parser (bounded; lets the two overlap). */
const GUNZIP_AHEAD_BYTES = 1 << 20;
/** A "line" longer than this is not CSV (binary garbage, a corrupt file without newlines). */
export const MAX_LINE_BYTES = 1 << 20;

// zlib forwards stream options to its Transform; the typings only list zlib's own.
const GUNZIP_OPTIONS: ZlibOptions & TransformOptions = { chunkSize: CHUNK_BYTES, readableHighWaterMark: GUNZIP_AHEAD_BYTES };

export interface LineStats {
  /** Number of lines handed to the callback. */
  readonly lines: number;
  /** Bytes on disk. */
  readonly fileBytes: number;
  /** Bytes after decompression (equal to fileBytes for plain files). */
  readonly textBytes: number;
  readonly gzip: boolean;
}

/** True when the first two bytes are the gzip magic 1f 8b. */
export function isGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
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

/**
 * Calls onLine for every line of `file` (the newline and a trailing CR are
 * not part of the line). The last line needs no newline. A blank line is an
 * error: it never occurs in the layouts read here and usually means damage.
 * Rejects with DataError for a missing, empty, truncated or corrupt file.
 */
export async function readLines(file: string, onLine: (line: LineCursor) => void, opts: ReadLinesOptions = {}): Promise<LineStats> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new DataError(file, undefined, `cannot open: ${describeIoError(err)}`);
  }
  const cursor = new LineCursor(file);
  cursor.diagnoseTabs = (opts.separators ?? 'comma') === 'comma';
  let fileBytes = 0;
  let textBytes = 0;
  let gzip = false;
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new DataError(file, undefined, 'is a directory, expected a file');
    fileBytes = info.size;
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    if (bytesRead === 0) throw new DataError(file, undefined, 'empty file');
    gzip = isGzipMagic(head.subarray(0, bytesRead));
    if (opts.onOpen !== undefined) {
      let hint = fileBytes;
      if (gzip && fileBytes >= 18) {
        const trailer = Buffer.alloc(4);
        await handle.read(trailer, 0, 4, fileBytes - 4);
        // A damaged trailer must not make a reader allocate gigabytes: CSV rarely deflates 16:1.
        hint = Math.min(trailer.readUInt32LE(0), fileBytes * 16);
      }
      opts.onOpen(hint);
    }

    const raw = handle.createReadStream({ start: 0, highWaterMark: CHUNK_BYTES, autoClose: false });
    const stream: Readable = gzip ? pipeline(raw, createGunzip(GUNZIP_OPTIONS), () => {}) : raw;

    // Only failures of the stream itself (I/O, zlib) become "corrupt/truncated"
    // errors here; what onLine throws passes through untouched.
    const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let carry: Buffer | undefined;
    let finished = false;
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (err) {
          finished = true;
          throw new DataError(file, cursor.lineNo + 1, describeStreamError(err, gzip));
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
            carry = Buffer.concat([carry, chunk]);
            continue;
          }
          const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
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
          carry = Buffer.from(chunk.subarray(start));
        }
      }
    } catch (err) {
      // Damaged deflate data can decode to garbage before zlib's checksum at the end
      // of the member says so: a bad line in a gzip file is first checked against that.
      if (gzip && !finished && err instanceof DataError) {
        finished = true;
        const damage = await streamDamage(chunks, gzip);
        if (damage !== undefined) throw new DataError(file, undefined, `${damage}: the file is damaged (what it decoded to fails at line ${err.line ?? '?'})`);
      }
      throw err;
    } finally {
      // Stops and releases the stream when onLine threw.
      if (!finished) await chunks.return?.();
    }
    if (carry !== undefined) emit(cursor, carry, 0, carry.length, onLine);
    if (cursor.lineNo === 0) throw new DataError(file, undefined, gzip ? 'empty file (the gzip stream holds no text)' : 'empty file');
    return { lines: cursor.lineNo, fileBytes, textBytes, gzip };
  } finally {
    await handle.close();
  }
}

/** Reads the rest of a stream only to learn whether it fails; returns the failure in words. */
async function streamDamage(chunks: AsyncIterator<Buffer>, gzip: boolean): Promise<string | undefined> {
  try {
    for (;;) if ((await chunks.next()).done === true) return undefined;
  } catch (err) {
    return describeStreamError(err, gzip);
  }
}

function emit(cursor: LineCursor, buf: Buffer, start: number, end: number, onLine: (line: LineCursor) => void): void {
  if (end > start && buf[end - 1] === 13) end--;
  // A UTF-8 byte-order mark before the first line (some editors write one) is not part of the data.
  if (cursor.lineNo === 0 && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  cursor.reset(buf, start, end);
  if (end === start) cursor.fail('blank line');
  onLine(cursor);
}

function describeStreamError(err: unknown, gzip: boolean): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (!gzip) return `read error: ${message}`;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) return 'truncated gzip stream (unexpected end of file)';
  return `corrupt gzip data (${message})`;
}

export function describeIoError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory, expected a file';
  return typeof e.message === 'string' ? e.message : String(err);
}
