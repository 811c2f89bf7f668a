// The lines of Files or Blobs a page was given (dropped, picked, or fetched),
// plain or gzip, through the same splitter and cursor as files on disk: a
// reader handed blobLines(...) reports the same file:line errors as on the
// command line, with the file's name for its path.

import { DataError } from './dataset.ts';
import { LineCursor } from './lineCursor.ts';
import { gzipSizeHint, isGzipMagic, splitLines, TRAILING_GZIP_DATA, type LineStats, type ReadLines, type ReadLinesOptions } from './lineSplitter.ts';

/** A ReadLines over named blobs; a name it does not hold is "cannot open". */
export function blobLines(blobs: ReadonlyMap<string, Blob>): ReadLines {
  return (file, onLine, opts) => readBlobLines(file, blobs.get(file), onLine, opts);
}

async function readBlobLines(file: string, blob: Blob | undefined, onLine: (line: LineCursor) => void, opts: ReadLinesOptions = {}): Promise<LineStats> {
  if (blob === undefined) throw new DataError(file, undefined, 'cannot open: no such file among the ones given');
  const cursor = new LineCursor(file);
  cursor.diagnoseTabs = (opts.separators ?? 'comma') === 'comma';
  const fileBytes = blob.size;
  if (fileBytes === 0) throw new DataError(file, undefined, 'empty file');
  const gzip = isGzipMagic(new Uint8Array(await blob.slice(0, 2).arrayBuffer()));
  if (opts.onOpen !== undefined) {
    const hint = gzip && fileBytes >= 18 ? gzipSizeHint(new Uint8Array(await blob.slice(fileBytes - 4).arrayBuffer()), fileBytes) : fileBytes;
    opts.onOpen(hint);
  }
  const raw = blob.stream();
  const stream = gzip ? raw.pipeThrough(new DecompressionStream('gzip')) : raw;
  const textBytes = await splitLines(file, chunksOf(stream), gzip, cursor, onLine, describeStreamError);
  return { lines: cursor.lineNo, fileBytes, textBytes, gzip };
}

function chunksOf(stream: ReadableStream<Uint8Array>): AsyncIterator<Uint8Array> {
  const reader = stream.getReader();
  return {
    next: async () => {
      const r = await reader.read();
      return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
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
