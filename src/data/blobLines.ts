// The lines of Files or Blobs a page was given (dropped, picked, or fetched),
// plain or gzip, through the same splitter and cursor as files on disk: a
// reader handed blobLines(...) reports the same file:line errors as on the
// command line, with the file's name for its path.
//
// A tab has a few GB at most, and a reader's arrays grow with the text, so a
// caller names the most bytes a file may hold, before and after
// decompression: a bigger File is refused from its size before a byte is
// read, and a gzip that inflates past it (a bomb, or just a huge cell) is
// stopped there. The text is parsed as it streams, one chunk at a time, with
// a turn of the event loop every few MiB so the page keeps painting.

import { DataError } from './dataset.ts';
import { LineCursor } from './lineCursor.ts';
import { gzipSizeHint, isGzipMagic, splitLines, TRAILING_GZIP_DATA, type LineStats, type ReadLines, type ReadLinesOptions } from './lineSplitter.ts';

/** The most bytes a file may hold (on disk, and as text after decompression), and what to say past it. */
export interface BlobLimit {
  readonly maxBytes: number;
  /** Appended to the message, e.g. where bigger files can go. */
  readonly advice: string;
}

const NO_LIMIT: BlobLimit = { maxBytes: Number.POSITIVE_INFINITY, advice: '' };
/** The text between two turns of the event loop. */
const YIELD_EVERY_BYTES = 4 << 20;

/** A byte count as people read it: MiB, or bytes under one (limits set low for tests). */
export function inMiB(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Number((bytes / 2 ** 20).toFixed(1))} MiB` : `${bytes} bytes`;
}

/** The refusal of a file of `size` bytes, or undefined when it is within the limit. */
export function oversized(file: string, size: number, limit: BlobLimit, what = 'data files'): DataError | undefined {
  if (size <= limit.maxBytes) return undefined;
  return new DataError(file, undefined, `${inMiB(size)}, more than the ${inMiB(limit.maxBytes)} this page reads of ${what}${limit.advice}`);
}

/** A ReadLines over named blobs; a name it does not hold is "cannot open". */
export function blobLines(blobs: ReadonlyMap<string, Blob>, limit: BlobLimit = NO_LIMIT): ReadLines {
  return (file, onLine, opts) => readBlobLines(file, blobs.get(file), limit, onLine, opts);
}

async function readBlobLines(file: string, blob: Blob | undefined, limit: BlobLimit, onLine: (line: LineCursor) => void, opts: ReadLinesOptions = {}): Promise<LineStats> {
  if (blob === undefined) throw new DataError(file, undefined, 'cannot open: no such file among the ones given');
  const tooBig = oversized(file, blob.size, limit);
  if (tooBig !== undefined) throw tooBig;
  const cursor = new LineCursor(file);
  cursor.diagnoseTabs = (opts.separators ?? 'comma') === 'comma';
  const fileBytes = blob.size;
  if (fileBytes === 0) throw new DataError(file, undefined, 'empty file');
  const gzip = isGzipMagic(new Uint8Array(await blob.slice(0, 2).arrayBuffer()));
  if (opts.onOpen !== undefined) {
    const hint = gzip && fileBytes >= 18 ? gzipSizeHint(new Uint8Array(await blob.slice(fileBytes - 4).arrayBuffer()), fileBytes) : fileBytes;
    opts.onOpen(Math.min(hint, limit.maxBytes));
  }
  const raw = blob.stream();
  const stream = gzip ? raw.pipeThrough(new DecompressionStream('gzip')) : raw;
  const textBytes = await splitLines(file, chunksOf(stream, file, limit), gzip, cursor, onLine, describeStreamError);
  return { lines: cursor.lineNo, fileBytes, textBytes, gzip };
}

/** The stream's chunks, stopped with a DataError once they pass the limit, and a macrotask every few MiB. */
function chunksOf(stream: ReadableStream<Uint8Array>, file: string, limit: BlobLimit): AsyncIterator<Uint8Array> {
  const reader = stream.getReader();
  let bytes = 0;
  let sinceYield = 0;
  return {
    next: async () => {
      const r = await reader.read();
      if (r.done) return { done: true, value: undefined };
      bytes += r.value.length;
      sinceYield += r.value.length;
      if (bytes > limit.maxBytes) {
        await reader.cancel();
        throw new DataError(file, undefined, `decompresses to more than ${inMiB(limit.maxBytes)}, the most text this page reads of a data file; stopped there${limit.advice}`);
      }
      if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await new Promise((resume) => setTimeout(resume, 0));
      }
      return { done: false, value: r.value };
    },
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}

/** Browsers word decompression failures their own way; the kind of failure is what the user needs. */
function describeStreamError(err: unknown, gzip: boolean): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!gzip) return `read error: ${message}`;
  // Chromium: "Junk found after end of compressed data."; Node's zlib: "incorrect header check" (the magic was checked at the start).
  if (/junk|trailing|incorrect header check/i.test(message)) return TRAILING_GZIP_DATA;
  if (/end|truncat|incomplete/i.test(message)) return `truncated gzip stream (${message})`;
  return `corrupt gzip data (${message})`;
}
