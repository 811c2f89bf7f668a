// The most the page reads of one file. A tab has a few GB, and what a reader
// keeps grows with the text it is given, so a page that read whatever it was
// handed would die on a 1 GB file or a gzip bomb instead of saying why. The
// command line has no such limit. A full Roadmap cell's split file is about
// 30 MiB of text, the 56-cell RPKM table about 10 MiB; a checkpoint of the
// models here is a few MiB.

import type { BlobLimit } from '../src/data/blobLines.ts';

const MiB = 2 ** 20;

export interface PageLimits {
  /** A data file (a cell's split or expression file, the annotation, the RPKM table): bytes on disk, and bytes of text after decompression. */
  readonly dataFileBytes: number;
  /** A checkpoint (best.safetensors, vae.safetensors) loaded for predicting. */
  readonly checkpointBytes: number;
}

export const PAGE_LIMITS: PageLimits = { dataFileBytes: 256 * MiB, checkpointBytes: 64 * MiB };

/** Test hook: query parameters that lower a limit (never raise it), so a test can show a refusal with small files,
 * e.g. index.html?max-data-bytes=2000000. */
export const LIMIT_PARAMS: Readonly<Record<keyof PageLimits, string>> = { dataFileBytes: 'max-data-bytes', checkpointBytes: 'max-checkpoint-bytes' };

/** The limits with the test hook's lower values from the page's query string applied. */
export function pageLimits(search: string): PageLimits {
  const query = new URLSearchParams(search);
  const lowered = (key: keyof PageLimits): number => {
    const v = Number(query.get(LIMIT_PARAMS[key]) ?? Number.NaN);
    return Number.isSafeInteger(v) && v > 0 ? Math.min(v, PAGE_LIMITS[key]) : PAGE_LIMITS[key];
  };
  return { dataFileBytes: lowered('dataFileBytes'), checkpointBytes: lowered('checkpointBytes') };
}

/** Where bigger files go: the end of each refusal. */
export const BIGGER_FILES = '; the command line (npx tsx run.ts --data ..., npx tsx run.ts predict) reads bigger ones';

export const blobLimit = (maxBytes: number): BlobLimit => ({ maxBytes, advice: BIGGER_FILES });
