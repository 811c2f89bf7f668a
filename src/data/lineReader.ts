// Streams a text file line by line, plain or gzip (told apart by the gzip
// magic bytes, not by the name), without ever holding the decompressed file.
// Each line is handed to the caller as a LineCursor over the chunk's bytes, so
// parsers read numbers straight from bytes instead of building strings per
// field. The cutting into lines is lineSplitter.ts, shared with the page.

import type { FileHandle } from 'node:fs/promises';
import { pipeline, type Readable, type TransformOptions } from 'node:stream';
import { createGunzip, gunzipSync, type ZlibOptions } from 'node:zlib';
import { NotRegularFileError, openRegularFile } from '../util/regularFile.ts';
import { DataError } from './dataset.ts';
import { LineCursor } from './lineCursor.ts';
import { gzipSizeHint, isGzipMagic, splitLines, TRAILING_GZIP_DATA, type LineStats, type ReadLinesOptions } from './lineSplitter.ts';

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
  const handle = await openDataFile(file);
  const cursor = new LineCursor(file);
  cursor.diagnoseTabs = (opts.separators ?? 'comma') === 'comma';
  let fileBytes = 0;
  let textBytes = 0;
  let gzip = false;
  try {
    fileBytes = (await handle.stat()).size;
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
    try {
      textBytes = await splitLines(file, chunks, gzip, cursor, onLine, describeStreamError);
    } catch (err) {
      if (gzip && err instanceof DataError && err.message.includes(TRUNCATED_GZIP) && (await completeGzipBefore(handle, fileBytes))) {
        throw new DataError(file, undefined, TRAILING_GZIP_DATA);
      }
      throw err;
    }
    return { lines: cursor.lineNo, fileBytes, textBytes, gzip };
  } finally {
    await handle.close();
  }
}

const TRUNCATED_GZIP = 'truncated gzip stream (unexpected end of file)';
/** Bytes shorter than a gzip member's header (10) read as a stream cut short, not as trailing data. */
const GZIP_HEADER_BYTES = 10;
/** A file this large is not read again to tell a cut-off stream from a few bytes appended to a whole one. */
const MAX_RECHECK_BYTES = 1 << 28;

/** True when the file is a complete gzip stream followed by fewer bytes than a member's header (an `echo >> file.gz`). */
async function completeGzipBefore(handle: FileHandle, fileBytes: number): Promise<boolean> {
  if (fileBytes > MAX_RECHECK_BYTES) return false;
  const buf = Buffer.alloc(fileBytes);
  const { bytesRead } = await handle.read(buf, 0, fileBytes, 0);
  for (let k = 1; k < GZIP_HEADER_BYTES && k < bytesRead; k++) {
    try {
      gunzipSync(buf.subarray(0, bytesRead - k));
      return true;
    } catch {
      // not complete with k bytes fewer either
    }
  }
  return false;
}

function describeStreamError(err: unknown, gzip: boolean): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (!gzip) return `read error: ${message}`;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) return TRUNCATED_GZIP;
  // zlib reads on after a complete gzip stream, taking what follows for the next member's header: the magic was checked at the start.
  if (/incorrect header check/i.test(message)) return TRAILING_GZIP_DATA;
  return `corrupt gzip data (${message})`;
}

/** Opens a data file for reading without blocking on a FIFO or device (refused by name); DataError otherwise. */
export async function openDataFile(file: string): Promise<FileHandle> {
  try {
    return await openRegularFile(file);
  } catch (err) {
    if (err instanceof NotRegularFileError) throw new DataError(file, undefined, err.what);
    throw new DataError(file, undefined, `cannot open: ${describeIoError(err)}`);
  }
}

export function describeIoError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory, not a regular file';
  if (e.code === 'ELOOP') return 'a loop of symbolic links (a link that leads, directly or through others, back to itself)';
  return typeof e.message === 'string' ? e.message : String(err);
}
