// The one entry point for loading a cell: finds which layout a path holds
// (DeepChrome, AttentiveChrome v2 / DeepDiffChrome, GC-MERGE, bigWig tracks), reads it, and
// keeps a binary cache so that the next load skips the CSV parse.

import { basename, dirname, join } from 'node:path';
import {
  ATTENTIVECHROME_LOOKED_FOR,
  readAttentiveChromeFiles,
  resolveAttentiveChrome,
  type AttentiveChromeFiles,
  type AttentiveChromeOptions,
} from './attentiveChrome.ts';
import { readBigWigCell } from './bigwig.ts';
import { BIGWIG_LOOKED_FOR, effectiveOptions, hasBigWigs, resolveBigWig, type ResolvedBigWig } from './bigwigSource.ts';
import { cacheFileName, readCache, resolveCacheDir, stampSources, writeCache, type CacheIdentity, type CacheReport, type SourceStamp } from './cache.ts';
import { DataError, type Dataset } from './dataset.ts';
import { DEEPCHROME_LOOKED_FOR, readDeepChromeFiles, resolveDeepChrome, type ResolvedSplits } from './deepchrome.ts';
import {
  GCMERGE_BINS_FILE,
  GCMERGE_DEFAULT_FLANK,
  GCMERGE_DEFAULT_TEST,
  GCMERGE_DEFAULT_VALID,
  GCMERGE_GENES_FILE,
  GCMERGE_LOOKED_FOR,
  readGcMergeFiles,
  resolveGcMerge,
  type GcMergeFiles,
  type GcMergeOptions,
} from './gcmerge.ts';
import { writeFailureReason } from '../util/writeFailure.ts';
import { filesMatching, findCsv, findSplitFiles, pathKind, splitFromName, splitPrefixesIn } from './sourceFiles.ts';

export type Layout = 'deepchrome' | 'attentivechrome' | 'gcmerge' | 'bigwig';

export interface LoadCellOptions extends AttentiveChromeOptions, GcMergeOptions {
  /** Skip detection and read this layout. */
  readonly layout?: Layout;
  /** Use and write the binary cache (default true). */
  readonly cache?: boolean;
  /** Where cache files go; default beside the data, or ~/.cache/simplechrome when the data is read-only. */
  readonly cacheDir?: string;
  /** Progress of a slow read (bigWig tracks): genes done and total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface LoadedCell {
  readonly dataset: Dataset;
  readonly layout: Layout;
  readonly cache: CacheReport;
  /** The files read, with their sizes and SHA-256 (absent when the cache is off). */
  readonly sources?: readonly SourceStamp[];
}

export type DetectedCell =
  | { readonly layout: 'deepchrome'; readonly files: ResolvedSplits }
  | { readonly layout: 'attentivechrome'; readonly files: AttentiveChromeFiles }
  | { readonly layout: 'gcmerge'; readonly files: GcMergeFiles }
  | { readonly layout: 'bigwig'; readonly files: ResolvedBigWig };

export const LOOKED_FOR = `${DEEPCHROME_LOOKED_FOR}; ${ATTENTIVECHROME_LOOKED_FOR}; ${GCMERGE_LOOKED_FOR}; ${BIGWIG_LOOKED_FOR}`;

export async function loadCell(path: string, options: LoadCellOptions = {}): Promise<LoadedCell> {
  const detected = await detectLayout(path, options.layout);
  const sources = sourcesOf(detected);
  const identity: CacheIdentity = { layout: detected.layout, options: contentOptions(detected, options), sources };
  if (options.cache === false) {
    return { dataset: await read(detected, options), layout: detected.layout, cache: { used: false, status: 'off' } };
  }
  const dir = resolveCacheDir(dirname(sources[0] as string), { cacheDir: options.cacheDir });
  const file = join(dir, cacheFileName(cellOf(detected, options), identity));
  const stamps = await stampSources(sources);
  const found = await readCache(file, identity, stamps);
  if ('dataset' in found) return { dataset: found.dataset, layout: detected.layout, cache: { used: true, status: 'hit', file }, sources: stamps };

  const dataset = await read(detected, options);
  // Stamps taken before parsing: a source changed meanwhile makes the cache stale next time, not wrong.
  let writeError: string | undefined;
  // A file that is not a cache holds the cache's name: it is someone's, and stays as it is.
  if (found.status !== 'foreign') {
    try {
      await writeCache(file, dir, dataset, identity, stamps);
    } catch (err) {
      writeError = writeFailureReason(err);
    }
  }
  const cache: CacheReport = {
    used: false,
    status: found.status,
    file,
    ...(found.status === 'miss' ? {} : { reason: found.reason }),
    ...(writeError === undefined ? {} : { writeError }),
  };
  return { dataset, layout: detected.layout, cache, sources: stamps };
}

/** Which layout `path` holds and its files; DataError "unknown layout" lists what was looked for. */
export async function detectLayout(path: string, layout?: Layout): Promise<DetectedCell> {
  if (layout === 'deepchrome') return { layout, files: await resolveDeepChrome(path) };
  if (layout === 'attentivechrome') return { layout, files: await resolveAttentiveChrome(path) };
  if (layout === 'gcmerge') return { layout, files: await resolveGcMerge(path) };
  if (layout === 'bigwig') return { layout, files: resolveBigWig(path) };

  const kind = pathKind(path);
  if (kind === 'directory') {
    if (findSplitFiles(join(path, 'classification'), '/') !== undefined || findSplitFiles(path, '/') !== undefined) {
      return { layout: 'deepchrome', files: await resolveDeepChrome(path) };
    }
    if (filesMatching(path, GCMERGE_BINS_FILE).length > 0 && filesMatching(path, GCMERGE_GENES_FILE).length > 0) {
      return { layout: 'gcmerge', files: await resolveGcMerge(path) };
    }
    if (hasBigWigs(path)) return { layout: 'bigwig', files: resolveBigWig(path) };
    const prefixes = splitPrefixesIn(path);
    if (prefixes.length > 1) {
      throw new DataError(path, undefined, `holds several cells (${prefixes.join(', ')}): pass one of them as a prefix, e.g. ${join(path, prefixes[0] as string)}`);
    }
    if (prefixes.length === 1) return detectPrefix(join(path, prefixes[0] as string));
    throw new DataError(path, undefined, `unknown layout: ${LOOKED_FOR}`);
  }
  if (kind === 'file') {
    const name = basename(path);
    if (GCMERGE_BINS_FILE.test(name)) return { layout: 'gcmerge', files: await resolveGcMerge(path) };
    if (/\.json$/i.test(name)) return { layout: 'bigwig', files: resolveBigWig(path) };
    const m = /^(.+)\.(train|valid|test)\.csv(\.gz)?$/.exec(name);
    if (m !== null && splitFromName(path) !== undefined) {
      const prefix = join(dirname(path), m[1] as string);
      const expr = findCsv(`${prefix}.expr`);
      if (expr !== undefined) {
        const split = m[2] as 'train' | 'valid' | 'test';
        return { layout: 'attentivechrome', files: await resolveAttentiveChrome({ [split]: path, expr }) };
      }
      return { layout: 'deepchrome', files: await resolveDeepChrome(path) };
    }
    throw new DataError(path, undefined, `unknown layout: a file, but not a split file or a GC-MERGE bins table; ${LOOKED_FOR}`);
  }
  if (findSplitFiles(path, '.') !== undefined) return detectPrefix(path);
  throw new DataError(path, undefined, `no such file or directory, and no ${basename(path)}.{train,valid,test}.csv[.gz]; ${LOOKED_FOR}`);
}

/** A prefix P with P.{train,valid,test}.csv[.gz]: AttentiveChrome when P.expr.csv[.gz] exists too. */
async function detectPrefix(prefix: string): Promise<DetectedCell> {
  if (findCsv(`${prefix}.expr`) !== undefined) return { layout: 'attentivechrome', files: await resolveAttentiveChrome(prefix) };
  return { layout: 'deepchrome', files: await resolveDeepChrome(prefix) };
}

async function read(d: DetectedCell, options: LoadCellOptions): Promise<Dataset> {
  switch (d.layout) {
    case 'deepchrome':
      return readDeepChromeFiles(d.files.files, options.cell ?? d.files.cell);
    case 'attentivechrome':
      return readAttentiveChromeFiles(d.files, options);
    case 'gcmerge':
      return readGcMergeFiles(d.files, options);
    case 'bigwig':
      return readBigWigCell(d.files.sources, { ...d.files.options, cell: options.cell ?? d.files.cell, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  }
}

function sourcesOf(d: DetectedCell): string[] {
  switch (d.layout) {
    case 'deepchrome':
      return d.files.files.map((f) => f.path);
    case 'attentivechrome':
      return [...d.files.files.map((f) => f.path), d.files.expr];
    case 'gcmerge':
      return [d.files.bins, d.files.genes];
    case 'bigwig':
      return [...d.files.files];
  }
}

function cellOf(d: DetectedCell, options: LoadCellOptions): string {
  return options.cell ?? d.files.cell;
}

/** The options that change what a layout's reader returns (the cache identity). */
function contentOptions(d: DetectedCell, o: LoadCellOptions): Record<string, unknown> {
  switch (d.layout) {
    case 'deepchrome':
      return { cell: o.cell };
    case 'attentivechrome':
      return { cell: o.cell, centralBins: o.centralBins, threshold: o.threshold ?? { quantile: 0.5 } };
    case 'gcmerge':
      return {
        cell: o.cell,
        flank: o.flank ?? GCMERGE_DEFAULT_FLANK,
        testChromosomes: o.testChromosomes ?? GCMERGE_DEFAULT_TEST,
        validChromosomes: o.validChromosomes ?? GCMERGE_DEFAULT_VALID,
      };
    case 'bigwig':
      return { cell: o.cell, ...effectiveOptions(d.files.options) };
  }
}
