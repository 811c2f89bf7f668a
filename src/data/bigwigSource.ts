// Where a bigWig-backed cell is, for `--data` and loadCell: a directory that
// holds the mark tracks, one gene table and one expression table (read
// with the default windows), or a sources file (`*.json`, as build-dataset
// writes beside its output) that names the sources and the options.

import { readdirSync } from 'node:fs';
import { NotRegularFileError, readRegularTextSync } from '../util/regularFile.ts';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { BIGWIG_DEFAULTS, type BigWigOptions, type BigWigSources } from './bigwig.ts';
import { bigWigsIn, MARK_AND_PATH, resolveTracks } from './bigwigTracks.ts';
import { ANCHORS, BIN_SUMMARIES } from './bigwigWindows.ts';
import { DataError } from './dataset.ts';
import type { LabelRule } from './expressionLabels.ts';
import { fractionsProblem, type RandomSplit } from './randomSplit.ts';
import { cellNameFrom, pathKind } from './sourceFiles.ts';
import { GENE_TABLE_FILE } from './tssTable.ts';

export const SOURCES_FORMAT = 'simplechrome-bigwig-sources';
export const SOURCES_FILE_NAME = 'bigwig-sources.json';
export const EXPRESSION_FILE = /\.(tsv|csv|txt)(\.gz)?$/i;
export const BIGWIG_LOOKED_FOR = 'looked for bigWig tracks (*.bw) with one gene table (.bed/.gtf/.gff3) and one expression table (.tsv/.csv/.txt), or a bigWig sources file (*.json)';

/** The options a sources file may set (everything but the progress callback). */
export type StoredBigWigOptions = Omit<BigWigOptions, 'onProgress'>;

export interface ResolvedBigWig {
  readonly cell: string;
  readonly sources: BigWigSources & { readonly tracks: readonly string[] };
  readonly options: StoredBigWigOptions;
  /** Every file the dataset depends on (cache stamps). */
  readonly files: readonly string[];
}

export interface SourcesFile {
  readonly format: typeof SOURCES_FORMAT;
  readonly version: 1;
  readonly tracks: readonly string[];
  readonly genes: string;
  readonly expression: string;
  readonly options: StoredBigWigOptions;
}

export function hasBigWigs(dir: string): boolean {
  return bigWigsIn(dir).length > 0;
}

export function resolveBigWig(path: string): ResolvedBigWig {
  const kind = pathKind(path);
  if (kind === 'directory') return fromDirectory(path);
  if (kind === 'file' && /\.json$/i.test(path)) return fromSourcesFile(path);
  throw new DataError(path, undefined, `unknown layout: ${BIGWIG_LOOKED_FOR}`);
}

function fromDirectory(dir: string): ResolvedBigWig {
  const names = listFiles(dir);
  const genes = names.filter((n) => GENE_TABLE_FILE.test(n));
  const expression = names.filter((n) => EXPRESSION_FILE.test(n) && !GENE_TABLE_FILE.test(n));
  const one = (found: string[], what: string): string => {
    if (found.length === 1) return join(dir, found[0] as string);
    throw new DataError(
      dir,
      undefined,
      found.length === 0
        ? `bigWig tracks but no ${what} beside them: ${BIGWIG_LOOKED_FOR}`
        : `several ${what}s (${found.join(', ')}): name the one to use in a sources file, or run build-dataset with --genes and --expression`,
    );
  };
  const sources = { tracks: resolveTracks(dir).tracks.map((t) => `${t.mark}=${t.path}`), genes: one(genes, 'gene table'), expression: one(expression, 'expression table') };
  const tracks = sources.tracks.map(trackPath);
  const cell = cellNameFrom(basename(tracks[0] as string));
  return {
    cell: /^E\d{3}$/.test(cell) ? cell : basename(dir),
    sources,
    options: {},
    files: [...tracks, sources.genes, sources.expression],
  };
}

function fromSourcesFile(file: string): ResolvedBigWig {
  let raw: unknown;
  try {
    raw = JSON.parse(readRegularTextSync(file));
  } catch (e) {
    if (e instanceof NotRegularFileError) throw new DataError(file, undefined, e.what);
    throw new DataError(file, undefined, `not a JSON sources file: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = raw as Partial<SourcesFile>;
  if (typeof raw !== 'object' || raw === null || r.format !== SOURCES_FORMAT) {
    throw new DataError(file, undefined, `not a bigWig sources file (expected "format": "${SOURCES_FORMAT}"); ${BIGWIG_LOOKED_FOR}`);
  }
  if (r.version !== 1) throw new DataError(file, undefined, `sources file version ${String(r.version)}, this simplechrome reads version 1`);
  const base = dirname(resolve(file));
  const at = (p: unknown, what: string): string => {
    if (typeof p !== 'string' || p === '') throw new DataError(file, undefined, `"${what}" must be a path`);
    return isAbsolute(p) ? p : join(base, p);
  };
  if (!Array.isArray(r.tracks) || r.tracks.length === 0) throw new DataError(file, undefined, '"tracks" must be a list of MARK=path entries');
  const tracks = r.tracks.map((t: unknown) => {
    const s = at(t, 'tracks');
    const eq = MARK_AND_PATH.exec(String(t));
    return eq === null ? s : `${eq[1]}=${at(eq[2], 'tracks')}`;
  });
  const options = checkOptions(file, r.options ?? {});
  const sources = { tracks, genes: at(r.genes, 'genes'), expression: at(r.expression, 'expression') };
  const paths = tracks.map(trackPath);
  return { cell: options.cell ?? basename(dirname(resolve(file))), sources, options, files: [file, ...paths, sources.genes, sources.expression] };
}

function trackPath(t: string): string {
  const eq = MARK_AND_PATH.exec(t);
  return eq === null ? t : (eq[2] as string);
}

/** A cell's name from a sources file: it becomes part of folder names (runs/CELL-...), so it cannot hold a path. */
function plainName(x: unknown, fail: (what: string) => never): string | undefined {
  if (x === undefined) return undefined;
  if (typeof x !== 'string' || !/^[A-Za-z0-9._-]+$/.test(x) || /^\.+$/.test(x)) fail(`"cell" must be a plain name (letters, digits, . _ -), not ${JSON.stringify(x)}`);
  return x as string;
}

function checkOptions(file: string, o: unknown): StoredBigWigOptions {
  if (typeof o !== 'object' || o === null) throw new DataError(file, undefined, '"options" must be an object');
  const v = o as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new DataError(file, undefined, `options: ${what}`);
  };
  const int = (k: string, min: number): number | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min) fail(`"${k}" must be an integer ≥ ${min}`);
    return x as number;
  };
  const oneOf = <T extends string>(k: string, allowed: readonly T[]): T | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    if (!(allowed as readonly unknown[]).includes(x)) fail(`"${k}" must be one of ${allowed.join(', ')}`);
    return x as T;
  };
  const strings = (k: string): string[] | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) fail(`"${k}" must be a list of chromosome names`);
    return x as string[];
  };
  const known = ['cell', 'bin', 'flank', 'anchor', 'summary', 'strand', 'geneFormat', 'valueColumn', 'labels', 'testChromosomes', 'validChromosomes', 'randomSplit'];
  const unknown = Object.keys(v).filter((k) => !known.includes(k));
  if (unknown.length > 0) fail(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const labels = v.labels === undefined ? undefined : labelRule(v.labels, fail);
  const out: Record<string, unknown> = {
    cell: plainName(v.cell, fail),
    bin: int('bin', 1),
    flank: int('flank', 0),
    anchor: oneOf('anchor', ANCHORS),
    summary: oneOf('summary', BIN_SUMMARIES),
    strand: oneOf('strand', ['reverse', 'ignore'] as const),
    geneFormat: oneOf('geneFormat', ['bed', 'gtf', 'gff3'] as const),
    valueColumn: typeof v.valueColumn === 'string' ? v.valueColumn : undefined,
    labels,
    testChromosomes: strings('testChromosomes'),
    validChromosomes: strings('validChromosomes'),
    randomSplit: v.randomSplit === undefined ? undefined : randomSplitRule(v.randomSplit, fail),
  };
  return Object.fromEntries(Object.entries(out).filter(([, x]) => x !== undefined)) as StoredBigWigOptions;
}

function labelRule(x: unknown, fail: (what: string) => never): LabelRule {
  const r = x as Record<string, unknown>;
  if (typeof r === 'object' && r !== null) {
    if (typeof r.column === 'string') return { column: r.column };
    const t = r.threshold as Record<string, unknown> | undefined;
    if (typeof t === 'object' && t !== null) {
      if (typeof t.value === 'number' && Number.isFinite(t.value)) return { threshold: { value: t.value } };
      if (typeof t.quantile === 'number' && t.quantile >= 0 && t.quantile <= 1) return { threshold: { quantile: t.quantile } };
    }
  }
  return fail('"labels" must be {"column": NAME}, {"threshold": {"value": X}} or {"threshold": {"quantile": Q}}');
}

function randomSplitRule(x: unknown, fail: (what: string) => never): RandomSplit {
  const r = x as Record<string, unknown>;
  const shape = '"randomSplit" must be {"fractions": [TRAIN, VALID, TEST], "seed": N}';
  if (typeof r !== 'object' || r === null || !Array.isArray(r.fractions) || !r.fractions.every((f) => typeof f === 'number')) return fail(shape);
  if (typeof r.seed !== 'number' || !Number.isSafeInteger(r.seed) || r.seed < 0) return fail(`${shape}, the seed an integer ≥ 0`);
  const problem = fractionsProblem(r.fractions as number[]);
  if (problem !== undefined) return fail(`"randomSplit": ${problem}`);
  return { fractions: r.fractions as [number, number, number], seed: r.seed };
}

/** The options with their defaults filled in: the cache identity, and what build-dataset records. */
export function effectiveOptions(o: StoredBigWigOptions): Record<string, unknown> {
  return {
    bin: o.bin ?? BIGWIG_DEFAULTS.bin,
    flank: o.flank ?? BIGWIG_DEFAULTS.flank,
    anchor: o.anchor ?? BIGWIG_DEFAULTS.anchor,
    summary: o.summary ?? BIGWIG_DEFAULTS.summary,
    strand: o.strand ?? BIGWIG_DEFAULTS.strand,
    labels: o.labels ?? { threshold: { quantile: 0.5 } },
    ...(o.cell !== undefined ? { cell: o.cell } : {}),
    ...(o.geneFormat !== undefined ? { geneFormat: o.geneFormat } : {}),
    ...(o.valueColumn !== undefined ? { valueColumn: o.valueColumn } : {}),
    ...(o.testChromosomes !== undefined ? { testChromosomes: o.testChromosomes } : {}),
    ...(o.validChromosomes !== undefined ? { validChromosomes: o.validChromosomes } : {}),
    ...(o.randomSplit !== undefined ? { randomSplit: o.randomSplit } : {}),
  };
}

function listFiles(dir: string): string[] {
  const isFile = (n: string): boolean => {
    try {
      return pathKind(join(dir, n)) === 'file';
    } catch {
      return false; // a stray link loop among the folder's other files is not one of the cell's
    }
  };
  return readdirSync(dir).filter(isFile).sort();
}
