// Streams a text file line by line, plain or gzip (told apart by the gzip
// magic bytes, not by the name), without ever holding the decompressed file.
// Each line is handed to the caller as a LineCursor over the chunk's bytes, so
// parsers read numbers straight from bytes instead of building strings per
// field. The cutting into lines is lineSplitter.ts, shared with the page.

import { open } from 'node:fs/promises';
import { pipeline, type Readable, type TransformOptions } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { DataError } from './dataset.ts';
import { LineCursor } from './lineCursor.ts';
import { gzipSizeHint, isGzipMagic, splitLines, type LineStats, type ReadLinesOptions } from './lineSplitter.ts';

export { isGzipMagic, MAX_LINE_BYTES, type LineStats, type ReadLinesOptions } from './lineSplitter.ts';

const CHUNK_BYTES = 1 << 18;
/** Decompressed text zlib may run ahead of the parser (bounded; lets the two overlap). */
const GUNZIP_AHEAD_BYTES = 1 << 20;
// zlib forwards stream options to its Transform; the typings only list zlib's own.
const GUNZIP_OPTIONS: ZlibOptions & TransformOptions = { chunkSize: CHUNK_BYTES, readableHighWaterMark: GUNZIP_AHEAD_BYTES };

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
        hint = gzipSizeHint(trailer, fileBytes);
      }
      opts.onOpen(hint);
    }

    const raw = handle.createReadStream({ start: 0, highWaterMark: CHUNK_BYTES, autoClose: false });
    const stream: Readable = gzip ? pipeline(raw, createGunzip(GUNZIP_OPTIONS), () => {}) : raw;

    const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    textBytes = await splitLines(file, chunks, gzip, cursor, onLine, describeStreamError);
    return { lines: cursor.lineNo, fileBytes, textBytes, gzip };
  } finally {
    await handle.close();
  }
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
