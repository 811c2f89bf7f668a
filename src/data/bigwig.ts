// Reader for a bigWig-backed cell: one bigWig track per mark (any marks), a gene table
// (BED, GTF or GFF3) and an expression table become one Dataset, at the bin
// size, flank and summary asked for. Genes are read in batches of nearby
// genes, each batch one range query per track, so memory stays bounded by
// the intervals of one batch whatever the genome's size. The split is by
// chromosome (or at random, randomSplit.ts), as in the GC-MERGE reader, whose windows and masks this
// reproduces with `grid` anchoring.

import { basename, dirname } from 'node:path';
import { DataError, SPLIT_CODES, type Dataset } from './dataset.ts';
import { MAX_MARK_VALUE, markValueProblem } from './markValues.ts';
import { readExpressionLabels, type LabelRule } from './expressionLabels.ts';
import { GCMERGE_DEFAULT_TEST, GCMERGE_DEFAULT_VALID } from './gcmerge.ts';
import { agreeOnLength, type ChromosomeEnd } from './bigwigAssembly.ts';
import { openTrack, resolveTracks, type OpenTrack } from './bigwigTracks.ts';
import { type Anchor, type BinSummary, binOffChromosome, binsPerWindow, summariseBins, windowStart, type WindowShape } from './bigwigWindows.ts';
import { fractionsProblem, randomSplit, type RandomSplit } from './randomSplit.ts';
import { cellNameFrom } from './sourceFiles.ts';
import { readTssTable, type GeneTableFormat, type TssTable } from './tssTable.ts';

export interface BigWigSources {
  /** A directory of tracks, or files (each named by its mark, or `MARK=path`). */
  readonly tracks: string | readonly string[];
  readonly genes: string;
  readonly expression: string;
}

export interface BigWigOptions {
  readonly cell?: string;
  /** Bases per bin (default 100). */
  readonly bin?: number;
  /** Bins on each side of the TSS (default 50). */
  readonly flank?: number;
  /** grid (default): the TSS's bin of a genome-wide grid ± flank; tss: flank bins on each side of the TSS. */
  readonly anchor?: Anchor;
  readonly summary?: BinSummary;
  /** reverse (default): minus-strand windows run in transcription direction; ignore: genome order for all. */
  readonly strand?: 'reverse' | 'ignore';
  readonly geneFormat?: GeneTableFormat;
  readonly valueColumn?: string;
  readonly labels?: LabelRule;
  readonly testChromosomes?: readonly string[];
  readonly validChromosomes?: readonly string[];
  /** Split genes at random instead of by chromosome (then neither chromosome list may be given). */
  readonly randomSplit?: RandomSplit;
  /** Called after each batch with genes done and total (a genome takes seconds to minutes). */
  readonly onProgress?: (done: number, total: number) => void;
}

export const BIGWIG_DEFAULTS = { bin: 100, flank: 50, anchor: 'grid', summary: 'mean0', strand: 'reverse' } as const;
/**
 * Genes whose windows fit in one span share one range query per track. The
 * span adapts to the tracks' density so that a query returns about
 * BATCH_INTERVALS intervals (memory stays near 12 bytes × that × 5 tracks),
 * between the two limits; bigger spans decompress each block fewer times.
 */
const BATCH_INTERVALS = 1 << 20;
const MIN_BATCH_SPAN = 1_000_000;
const MAX_BATCH_SPAN = 64_000_000;

export async function readBigWigCell(sources: BigWigSources, opts: BigWigOptions = {}): Promise<Dataset> {
  const shape: WindowShape = { bin: opts.bin ?? BIGWIG_DEFAULTS.bin, flank: opts.flank ?? BIGWIG_DEFAULTS.flank, anchor: opts.anchor ?? BIGWIG_DEFAULTS.anchor };
  if (!(Number.isSafeInteger(shape.bin) && shape.bin >= 1)) throw new RangeError(`bin must be a positive integer number of bases, got ${shape.bin}`);
  if (!(Number.isSafeInteger(shape.flank) && shape.flank >= 0)) throw new RangeError(`flank must be a non-negative integer, got ${shape.flank}`);
  if (shape.anchor === 'tss' && shape.flank === 0) throw new RangeError('flank must be at least 1 with the tss anchor (it has 2·flank bins)');

  const { tracks: files, ignored } = resolveTracks(sources.tracks);
  const tracks: OpenTrack[] = [];
  try {
    for (const f of files) tracks.push(await openTrack(f));
    return await readOpened(tracks, ignored, sources, shape, opts);
  } finally {
    for (const t of tracks) t.close();
  }
}

async function readOpened(tracks: readonly OpenTrack[], ignored: readonly string[], sources: BigWigSources, shape: WindowShape, opts: BigWigOptions): Promise<Dataset> {
  const summary = opts.summary ?? BIGWIG_DEFAULTS.summary;
  const stranded = (opts.strand ?? BIGWIG_DEFAULTS.strand) === 'reverse';
  const table = await readTssTable(sources.genes, opts.geneFormat);
  const expression = await readExpressionLabels(sources.expression, {
    ...(opts.valueColumn !== undefined ? { valueColumn: opts.valueColumn } : {}),
    ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
  });
  const notes: string[] = ignored.map((f) => `ignored ${f}: its name names no mark`);

  const kept = joinGenes(table, expression.labelOf, sources, notes);
  const lengths = await chromosomeLengths(tracks, table, kept, notes);
  const byChromosome = chromosomeSplit(opts, table, kept, sources);

  const n = kept.rows.length;
  const width = binsPerWindow(shape);
  const m = tracks.length;
  const features = new Float32Array(n * width * m);
  const mask = new Uint8Array(n * width);
  const split = new Uint8Array(n);
  const labels = new Uint8Array(n);
  const geneIds: string[] = [];
  const starts = new Float64Array(n);
  kept.rows.forEach((row, g) => {
    const chrom = table.chroms[row] as string;
    geneIds.push(table.ids[row] as string);
    labels[g] = kept.labels[g] as number;
    if (byChromosome !== undefined) split[g] = byChromosome(chrom);
    starts[g] = windowStart(shape, table.tss[row] as number, stranded ? (table.strands[row] as '+' | '-' | '.') : '+');
  });

  if (opts.randomSplit !== undefined) {
    split.set(randomSplit(geneIds, opts.randomSplit));
    const [a, b, c] = opts.randomSplit.fractions;
    notes.push(`split at random (seed ${opts.randomSplit.seed}): ${a} train, ${b} valid, ${c} test of the genes`);
  }

  let reversed = 0;
  let unstranded = 0;
  const sums = new Float64Array(width);
  const covered = new Float64Array(width);
  const hasData = new Uint8Array(width);
  let done = 0;
  const limit = { span: MIN_BATCH_SPAN };
  for (const batch of batches(kept.rows, table, starts, width * shape.bin, limit)) {
    const chrom = batch.chrom;
    const length = lengths.get(chrom) as number;
    const span = await Promise.all(tracks.map((t) => (t.chromosomes.has(chrom) ? t.intervals(chrom, Math.max(batch.start, 0), Math.min(batch.end, length)) : undefined)));
    let most = 0;
    span.forEach((iv, k) => {
      if (iv === undefined) return;
      checkValues(tracks[k] as OpenTrack, chrom, iv);
      most = Math.max(most, iv.starts.length);
    });
    const basesPerInterval = (batch.end - batch.start) / Math.max(most, 1);
    limit.span = Math.min(MAX_BATCH_SPAN, Math.max(MIN_BATCH_SPAN, Math.floor(BATCH_INTERVALS * basesPerInterval)));
    for (const g of batch.genes) {
      const row = kept.rows[g] as number;
      const reverse = stranded && table.strands[row] === '-';
      if (reverse) reversed++;
      else if (table.strands[row] === '.') unstranded++;
      const start = starts[g] as number;
      hasData.fill(0);
      for (let k = 0; k < m; k++) {
        const iv = span[k];
        if (iv === undefined) continue;
        summariseBins(iv, start, width, shape.bin, length, summary, sums, covered);
        for (let b = 0; b < width; b++) {
          features[(g * width + (reverse ? width - 1 - b : b)) * m + k] = sums[b] as number;
          if ((covered[b] as number) > 0) hasData[b] = 1;
        }
      }
      // A bin no track has data on is masked like one off the chromosome: a
      // bigWig leaves out what it has no data for (GC-MERGE's tables, and so
      // the E116 tracks, begin after some chromosomes' first bases).
      for (let b = 0; b < width; b++) {
        if (hasData[b] === 1 && !binOffChromosome(start, b, shape.bin, length)) mask[g * width + (reverse ? width - 1 - b : b)] = 1;
      }
    }
    done += batch.genes.length;
    opts.onProgress?.(done, n);
  }
  if (!stranded) notes.push('strand ignored: every window is in genome order (left to right)');
  else if (reversed === 0) notes.push(`no gene is on the minus strand${unstranded > 0 ? ` (${unstranded} have no strand, '.')` : ''}: every window is in genome order`);
  else {
    notes.push(
      `bins run in transcription direction: the windows of ${reversed} minus-strand gene(s) are reversed` +
        (unstranded > 0 ? `; ${unstranded} gene(s) without a strand ('.') are in genome order` : ''),
    );
  }
  notes.push(expression.rule);
  if (expression.repeated.length > 0) {
    const shown = expression.repeated.slice(0, 3).join(', ') + (expression.repeated.length > 3 ? ', …' : '');
    notes.push(`the expression table lists ${expression.repeated.length} gene(s) again with the same value; the repeats are ignored: ${shown}`);
  }
  const hasMasked = mask.some((v) => v === 0);
  const base: Dataset = {
    cell: opts.cell ?? cellOf(tracks.map((f) => f.path)),
    genes: n,
    bins: width,
    marks: tracks.map((t) => t.mark),
    features,
    labels,
    split,
    geneIds,
    source: [...tracks.map((f) => f.path), sources.genes, sources.expression],
    notes,
  };
  return hasMasked ? { ...base, binMask: mask } : base;
}

interface KeptGenes {
  /** Rows of the gene table, in its order. */
  readonly rows: number[];
  readonly labels: Uint8Array;
}

/** Ensembl ids with a version (ENSG00000223972.5): matched without it when the exact id is absent. */
function withoutVersion(id: string): string {
  return /^ENS[A-Z]*\d+\.\d+$/.test(id) ? id.slice(0, id.lastIndexOf('.')) : id;
}

function joinGenes(table: TssTable, labelOf: ReadonlyMap<string, 0 | 1>, sources: BigWigSources, notes: string[]): KeptGenes {
  const unversioned = new Map<string, 0 | 1>();
  for (const [id, l] of labelOf) unversioned.set(withoutVersion(id), l);
  const rows: number[] = [];
  const labels: number[] = [];
  const missing: string[] = [];
  const matched = new Set<string>();
  table.ids.forEach((id, row) => {
    const exact = labelOf.get(id);
    const label = exact ?? unversioned.get(withoutVersion(id));
    if (label === undefined) {
      missing.push(id);
      return;
    }
    matched.add(exact !== undefined ? id : withoutVersion(id));
    rows.push(row);
    labels.push(label);
  });
  if (rows.length === 0) {
    const a = table.ids.slice(0, 3).join(', ');
    const b = [...labelOf.keys()].slice(0, 3).join(', ');
    throw new DataError(sources.expression, undefined, `no gene of the gene table ${sources.genes} is in the expression table: the gene table has ids like ${a}, the expression table ${b}`);
  }
  const examples = (ids: readonly string[]): string => ids.slice(0, 3).join(', ') + (ids.length > 3 ? ', …' : '');
  if (missing.length > 0) notes.push(`left out ${missing.length} gene(s) of the gene table with no expression value: ${examples(missing)}`);
  const unused = [...labelOf.keys()].filter((id) => !matched.has(id) && !matched.has(withoutVersion(id)));
  if (unused.length > 0) notes.push(`${unused.length} gene(s) of the expression table are not in the gene table: ${examples(unused)}`);
  return { rows, labels: Uint8Array.from(labels) };
}

/** Length of every chromosome with genes; DataError when names or lengths do not fit. */
async function chromosomeLengths(tracks: readonly OpenTrack[], table: TssTable, kept: KeptGenes, notes: string[]): Promise<Map<string, number>> {
  const geneChroms = [...new Set(kept.rows.map((r) => table.chroms[r] as string))];
  const list = (names: readonly string[]): string => names.slice(0, 4).join(', ') + (names.length > 4 ? `, … (${names.length} in all)` : '');
  for (const t of tracks) {
    if (geneChroms.some((c) => t.chromosomes.has(c))) continue;
    const trackNames = [...t.chromosomes.keys()];
    const hint = prefixHint(geneChroms, trackNames);
    throw new DataError(
      t.path,
      undefined,
      `the ${t.mark} track's chromosome names do not match the gene table ${table.path}: the track names ${list(trackNames)}; the gene table names ${list(geneChroms)}${hint}`,
    );
  }
  const lengths = await agreedLengths(tracks, notes);
  for (const c of geneChroms) {
    if (lengths.has(c)) {
      const lacking = tracks.filter((t) => !t.chromosomes.has(c));
      if (lacking.length > 0) notes.push(`${lacking.map((t) => t.mark).join(', ')}: no data on ${c} (the track does not list it): its bins there are 0`);
      continue;
    }
    const rows = kept.rows.filter((r) => table.chroms[r] === c);
    const first = rows[0] as number;
    throw new DataError(
      table.path,
      table.lines[first],
      `gene ${table.ids[first]} is on ${c}, which no track covers (${rows.length} gene(s) on ${c}; the tracks cover ${list([...(tracks[0] as OpenTrack).chromosomes.keys()])}): remove those genes or add tracks that cover ${c}`,
    );
  }
  kept.rows.forEach((r) => {
    const c = table.chroms[r] as string;
    const tss = table.tss[r] as number;
    if (tss >= (lengths.get(c) as number)) {
      throw new DataError(table.path, table.lines[r], `gene ${table.ids[r]}: TSS ${tss} lies past the end of ${c} (${lengths.get(c)} bp in the tracks): is the gene table of another genome assembly?`);
    }
  });
  return lengths;
}

/**
 * The length of every chromosome any track lists, checked across the tracks
 * (agreeOnLength); DataError naming the chromosome, the lengths and the files
 * when they are of different assemblies.
 */
async function agreedLengths(tracks: readonly OpenTrack[], notes: string[]): Promise<Map<string, number>> {
  const names = [...new Set(tracks.flatMap((t) => [...t.chromosomes.keys()]))];
  const lengths = new Map<string, number>();
  const conflicts: { chrom: string; path: string; what: string }[] = [];
  for (const c of names) {
    const having = tracks.filter((t) => t.chromosomes.has(c));
    const ends: ChromosomeEnd[] = [];
    const differ = new Set(having.map((t) => t.chromosomes.get(c))).size > 1;
    for (const t of having) {
      const length = t.chromosomes.get(c) as number;
      // Only lengths that differ need the last interval, which tells a binned track's end from an assembly's.
      const last = differ ? await lastInterval(t, c, length) : undefined;
      ends.push({ path: t.path, mark: t.mark, length, ...(last !== undefined && last.end === length ? { lastBin: last } : {}) });
    }
    const verdict = agreeOnLength(c, ends);
    if ('conflict' in verdict) conflicts.push({ chrom: c, path: verdict.path, what: verdict.conflict });
    else {
      lengths.set(c, verdict.length);
      if (verdict.note !== undefined) notes.push(verdict.note);
    }
  }
  const first = conflicts[0];
  if (first !== undefined) {
    const more = conflicts.slice(1).map((x) => x.chrom);
    throw new DataError(
      first.path,
      undefined,
      `the tracks are of different genome assemblies: ${first.what}${more.length > 0 ? ` (lengths differ also on ${more.slice(0, 5).join(', ')}${more.length > 5 ? ', …' : ''})` : ''}`,
    );
  }
  return lengths;
}

async function lastInterval(t: OpenTrack, chrom: string, length: number): Promise<{ start: number; end: number } | undefined> {
  const iv = await t.intervals(chrom, Math.max(0, length - 1), length);
  const n = iv.starts.length;
  return n === 0 ? undefined : { start: iv.starts[n - 1] as number, end: iv.ends[n - 1] as number };
}

function prefixHint(genes: readonly string[], track: readonly string[]): string {
  const has = (names: readonly string[]): boolean => names.some((n) => n.startsWith('chr'));
  if (has(track) && !has(genes)) return ': add the "chr" prefix to the gene table\'s chromosomes (1 → chr1), or use tracks named like it';
  if (!has(track) && has(genes)) return ': remove the "chr" prefix from the gene table\'s chromosomes (chr1 → 1), or use tracks named like it';
  return '';
}

/** The split of a gene on a chromosome, from the test and valid chromosomes (GC-MERGE's by default); undefined for a random split. */
function chromosomeSplit(opts: BigWigOptions, table: TssTable, kept: KeptGenes, sources: BigWigSources): ((chrom: string) => number) | undefined {
  if (opts.randomSplit !== undefined) {
    if (opts.testChromosomes !== undefined || opts.validChromosomes !== undefined) throw new RangeError('a random split takes no test or valid chromosomes');
    const problem = fractionsProblem(opts.randomSplit.fractions);
    if (problem !== undefined) throw new RangeError(`random split: ${problem}`);
    return undefined;
  }
  const test = opts.testChromosomes ?? defaultsFor(GCMERGE_DEFAULT_TEST, table, kept);
  const valid = opts.validChromosomes ?? defaultsFor(GCMERGE_DEFAULT_VALID, table, kept);
  const both = test.filter((c) => valid.includes(c));
  if (both.length > 0) throw new RangeError(`chromosome${both.length > 1 ? 's' : ''} ${both.join(', ')} listed as both test and valid`);
  const withGenes = new Set(kept.rows.map((r) => table.chroms[r] as string));
  for (const [list, name] of [[test, 'test'], [valid, 'valid']] as const) {
    for (const c of list) {
      if (!withGenes.has(c)) throw new DataError(sources.genes, undefined, `${name} chromosome ${c} has no genes (chromosomes with genes: ${[...withGenes].join(', ')})`);
    }
  }
  return (chrom) => (test.includes(chrom) ? SPLIT_CODES.test : valid.includes(chrom) ? SPLIT_CODES.valid : SPLIT_CODES.train);
}

/** GC-MERGE's default held-out chromosomes, spelled as the gene table spells chromosomes. */
function defaultsFor(names: readonly string[], table: TssTable, kept: KeptGenes): readonly string[] {
  const prefixed = kept.rows.some((r) => (table.chroms[r] as string).startsWith('chr'));
  return prefixed ? names : names.map((c) => c.replace(/^chr/, ''));
}

interface Batch {
  readonly chrom: string;
  readonly start: number;
  readonly end: number;
  readonly genes: readonly number[];
}

/** Genes grouped by chromosome and position, each group's windows within `limit.span` (read as each group is made). */
function* batches(rows: readonly number[], table: TssTable, starts: Float64Array, span: number, limit: { readonly span: number }): Generator<Batch> {
  const order = rows.map((_, g) => g);
  order.sort((a, b) => {
    const ca = table.chroms[rows[a] as number] as string;
    const cb = table.chroms[rows[b] as number] as string;
    return ca < cb ? -1 : ca > cb ? 1 : (starts[a] as number) - (starts[b] as number);
  });
  let i = 0;
  while (i < order.length) {
    const first = order[i] as number;
    const chrom = table.chroms[rows[first] as number] as string;
    const start = starts[first] as number;
    let end = start + span;
    const genes: number[] = [];
    while (i < order.length) {
      const g = order[i] as number;
      if (table.chroms[rows[g] as number] !== chrom) break;
      const e = (starts[g] as number) + span;
      if (genes.length > 0 && e - start > Math.max(limit.span, span)) break;
      genes.push(g);
      end = Math.max(end, e);
      i++;
    }
    yield { chrom, start, end, genes };
  }
}

function checkValues(track: OpenTrack, chrom: string, iv: { starts: Int32Array; values: Float32Array }): void {
  const v = iv.values;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (!(x >= 0)) {
      throw new DataError(
        track.path,
        undefined,
        `${chrom}:${iv.starts[i]}: value ${x} in the ${track.mark} track: expected non-negative signal (counts, coverage, fold change or -log10 p); log-ratio tracks are not supported`,
      );
    }
    if (x > MAX_MARK_VALUE) throw new DataError(track.path, undefined, `${chrom}:${iv.starts[i]} in the ${track.mark} track: ${markValueProblem(x, String(x)) as string}`);
  }
}

function cellOf(paths: readonly string[]): string {
  for (const p of paths) {
    const c = cellNameFrom(basename(p));
    if (/^E\d{3}$/.test(c)) return c;
  }
  return basename(dirname(paths[0] as string));
}
