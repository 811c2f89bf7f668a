import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { readBigWigCell, type BigWigOptions } from '../../data/bigwig.ts';
import { effectiveOptions, SOURCES_FILE_NAME, SOURCES_FORMAT, type SourcesFile, type StoredBigWigOptions } from '../../data/bigwigSource.ts';
import { resolveTracks } from '../../data/bigwigTracks.ts';
import { ANCHORS, BIN_SUMMARIES, type Anchor, type BinSummary } from '../../data/bigwigWindows.ts';
import { hasCanonicalMarks, MARKS, SPLIT_CODES, type Dataset, type Split } from '../../data/dataset.ts';
import { writeDeepChromeLayout } from '../../data/deepchromeWriter.ts';
import type { LabelRule } from '../../data/expressionLabels.ts';
import { loadCell } from '../../data/loadCell.ts';
import { fractionsProblem } from '../../data/randomSplit.ts';
import { readTssTable } from '../../data/tssTable.ts';
import { FlagCursor, UsageError } from '../flags/args.ts';
import { didYouMean, listedFlag } from '../../util/didYouMean.ts';
import { readProgress } from '../session/readProgress.ts';
import { err } from '../session/session.ts';
import { COMMAND, COMMAND_TO_TYPE } from '../flags/commandName.ts';

// `build-dataset`: bigWig tracks + a gene table + an expression table → a cell
// in the DeepChrome layout (which every DeepChrome-derived tool reads; for the
// five marks of that layout only), its binary cache, a gene table of what was written and the sources file that
// `--data` reads to rebuild the same dataset straight from the tracks.

export const BUILD_USAGE =
  `usage: ${COMMAND} build-dataset --tracks DIR|FILES --genes FILE --expression FILE --out DIR\n` +
  '         [--bin 100] [--flank 50] [--anchor grid|tss] [--summary mean0|mean|sum] [--strand reverse|ignore]\n' +
  '         [--value-column NAME] [--label-column NAME | --threshold X | --quantile Q]\n' +
  '         [--test-chromosomes chr8,chr9,chr10] [--valid-chromosomes chr11,chr12 | --split random:0.8,0.1,0.1 [--seed 1]]\n' +
  '         [--cell NAME] [--force] [--quiet]';

/** The --split a random split is asked with, and the seed it takes when --seed is not given. */
export const RANDOM_SPLIT_FLAG = /^random:(.*)$/;
export const DEFAULT_SPLIT_SEED = 1;

export interface BuildOptions {
  readonly tracks: readonly string[];
  readonly genes: string;
  readonly expression: string;
  readonly out: string;
  readonly force: boolean;
  readonly quiet: boolean;
  readonly reader: StoredBigWigOptions;
}

/** The flags build-dataset reads; its switch takes only these (listedFlag). */
const BUILD_FLAGS = [
  '--tracks', '--genes', '--expression', '--out', '--force', '--quiet', '--bin', '--flank', '--anchor', '--summary', '--strand',
  '--value-column', '--label-column', '--threshold', '--quantile', '--test-chromosomes', '--valid-chromosomes', '--cell', '--split', '--seed',
] as const;

export function parseBuildArgs(argv: readonly string[]): BuildOptions {
  const tracks: string[] = [];
  let genes: string | undefined;
  let expression: string | undefined;
  let out: string | undefined;
  let force = false;
  let quiet = false;
  const r: { -readonly [K in keyof StoredBigWigOptions]: StoredBigWigOptions[K] } = {};
  let labels: LabelRule | undefined;
  let fractions: [number, number, number] | undefined;
  let seed: number | undefined;
  const setLabels = (flag: string, rule: LabelRule): void => {
    if (labels !== undefined) throw new UsageError(`build-dataset ${flag}: give only one of --label-column, --threshold and --quantile`);
    labels = rule;
  };
  const cur = new FlagCursor(argv, 'build-dataset ');
  while (cur.next()) {
    const flag = cur.flag;
    const value = (): string => cur.value();
    const int = (min: number): number => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new UsageError(`build-dataset ${flag} needs an integer ≥ ${min}, got "${v}"`);
      return Number(v);
    };
    const oneOf = <T extends string>(allowed: readonly T[]): T => {
      const v = value();
      if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`build-dataset ${flag} must be one of ${allowed.join(', ')}; got "${v}"`);
      return v as T;
    };
    const number = (): number => {
      const v = value();
      if (v.trim() === '' || !Number.isFinite(Number(v))) throw new UsageError(`build-dataset ${flag} needs a number, got "${v}"`);
      return Number(v);
    };
    const list = (): string[] => value().split(',').filter((s) => s !== '');
    switch (listedFlag(BUILD_FLAGS, flag)) {
      case '--tracks': tracks.push(...list()); break;
      case '--genes': genes = value(); break;
      case '--expression': expression = value(); break;
      case '--out': out = value(); break;
      case '--force': force = true; break;
      case '--quiet': quiet = true; break;
      case '--bin': r.bin = int(1); break;
      case '--flank': r.flank = int(0); break;
      case '--anchor': r.anchor = oneOf<Anchor>(ANCHORS); break;
      case '--summary': r.summary = oneOf<BinSummary>(BIN_SUMMARIES); break;
      case '--strand': r.strand = oneOf(['reverse', 'ignore'] as const); break;
      case '--value-column': r.valueColumn = value(); break;
      case '--label-column': setLabels(flag, { column: value() }); break;
      case '--threshold': setLabels(flag, { threshold: { value: number() } }); break;
      case '--quantile': {
        const q = number();
        if (q < 0 || q > 1) throw new UsageError(`build-dataset --quantile must be in [0, 1], got ${q}`);
        setLabels(flag, { threshold: { quantile: q } });
        break;
      }
      case '--test-chromosomes': r.testChromosomes = list(); break;
      case '--valid-chromosomes': r.validChromosomes = list(); break;
      case '--split': {
        const v = value();
        if (v === 'chromosomes') break;
        const m = RANDOM_SPLIT_FLAG.exec(v);
        const shares = m === null ? [] : (m[1] as string).split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
        const problem = m === null ? 'expected chromosomes or random:TRAIN,VALID,TEST' : fractionsProblem(shares);
        if (problem !== undefined) throw new UsageError(`build-dataset --split ${v}: ${problem} (e.g. --split random:0.8,0.1,0.1)`);
        fractions = shares as [number, number, number];
        break;
      }
      case '--seed': seed = int(0); break;
      case '--cell': r.cell = value(); break;
      default:
        throw new UsageError(`build-dataset: unknown argument "${cur.arg}"${didYouMean(flag, BUILD_FLAGS)}\n${BUILD_USAGE}`);
    }
  }
  const need = (v: string | undefined, flag: string, what: string): string => {
    if (v === undefined) throw new UsageError(`build-dataset needs ${flag} ${what}\n${BUILD_USAGE}`);
    return v;
  };
  if (tracks.length === 0) throw new UsageError(`build-dataset needs --tracks (a directory of bigWig files, or MARK=FILE,… )\n${BUILD_USAGE}`);
  if (labels !== undefined) r.labels = labels;
  if (fractions !== undefined) {
    if (r.testChromosomes !== undefined || r.validChromosomes !== undefined) {
      throw new UsageError('build-dataset --split random:… draws every split at random: drop --test-chromosomes and --valid-chromosomes, or drop --split');
    }
    r.randomSplit = { fractions, seed: seed ?? DEFAULT_SPLIT_SEED };
  } else if (seed !== undefined) {
    throw new UsageError('build-dataset --seed seeds a random split: give it with --split random:TRAIN,VALID,TEST');
  }
  return {
    tracks,
    genes: need(genes, '--genes', 'FILE (BED, GTF or GFF3)'),
    expression: need(expression, '--expression', 'FILE (gene_id, value)'),
    out: need(out, '--out', 'DIR (a new or empty directory; it becomes the cell directory)'),
    force,
    quiet,
    reader: r,
  };
}

/** Files this command writes into --out (the only ones --force may replace). */
const OUTPUTS = ['classification', 'genes.tsv', SOURCES_FILE_NAME, 'build.json', '.simplechrome-cache'];

function checkOut(out: string, force: boolean, writesLayout: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UsageError(`build-dataset --out ${out}: a file, not a directory`);
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (!force) {
    throw new UsageError(
      `build-dataset --out ${out}: the directory is not empty (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}); ` +
        'choose a new directory, or pass --force to replace the files this command writes there (other files are left alone)',
    );
  }
  if (!writesLayout && entries.includes('classification')) {
    throw new UsageError(
      `build-dataset --out ${out} --force: ${join(out, 'classification')} holds a DeepChrome-layout build, which these marks do not replace ` +
        '(that layout holds the five marks only), so --data on the directory would read the old build: move or remove it, or choose a new directory',
    );
  }
  const foreign = entries.filter((e) => !OUTPUTS.includes(e));
  if (foreign.length > 0) err(`note: --force: leaving ${foreign.join(', ')} in ${out} untouched`);
}

export async function buildDataset(argv: readonly string[]): Promise<number> {
  const o = parseBuildArgs(argv);
  const resolved = resolveTracks(o.tracks);
  // The DeepChrome layout has five fixed mark columns and no header: other mark sets live in the sources file.
  const layout = hasCanonicalMarks(resolved.tracks.map((t) => t.mark));
  checkOut(o.out, o.force, layout);
  const t0 = performance.now();
  for (const f of resolved.ignored) err(`note: ignoring ${f}: its name names no mark`);
  const options: BigWigOptions = { ...o.reader, onProgress: readProgress(o.quiet) };
  const trackSpecs = resolved.tracks.map((t) => `${t.mark}=${resolve(t.path)}`);
  const ds = await readBigWigCell({ tracks: trackSpecs, genes: o.genes, expression: o.expression }, options);
  const tRead = performance.now();
  for (const note of ds.notes ?? []) err(`data: ${note}`);
  const counts = splitCounts(ds);
  const empty = (Object.keys(counts) as Split[]).filter((s) => counts[s] === 0);
  if (empty.length > 0) {
    throw new UsageError(
      `build-dataset: no genes in the ${empty.join(' and ')} split (${JSON.stringify(counts)}): training needs genes in all three; ` +
        (o.reader.randomSplit !== undefined
          ? 'give that split a larger share in --split random:…, or use more genes'
          : 'choose chromosomes with --test-chromosomes and --valid-chromosomes, or split at random with --split random:0.8,0.1,0.1 (a cell on one chromosome)'),
    );
  }

  await mkdir(o.out, { recursive: true });
  const written = layout ? await writeDeepChromeLayout(ds, o.out) : { files: [], geneIdsShortened: false };
  const table = await readTssTable(o.genes, o.reader.geneFormat);
  const where = new Map(table.ids.map((id, r) => [id, r]));
  const ids = written.geneIdsShortened ? ds.geneIds.map((id) => id.slice(-6)) : ds.geneIds;
  const splitName = ['train', 'valid', 'test'];
  const lines = ['GeneID\tgene_id\tchrom\ttss\tstrand\tbins\tlabel\tsplit'];
  ds.geneIds.forEach((id, g) => {
    const r = where.get(id) as number;
    const strand = table.strands[r] as string;
    const order = (o.reader.strand ?? 'reverse') === 'reverse' && strand === '-' ? 'reversed' : 'genome';
    lines.push(`${ids[g]}\t${id}\t${table.chroms[r]}\t${table.tss[r]}\t${strand}\t${order}\t${ds.labels[g]}\t${splitName[ds.split[g] as number]}`);
  });
  await atomicWrite(join(o.out, 'genes.tsv'), `${lines.join('\n')}\n`);

  const outAbs = resolve(o.out);
  const sourcesFile: SourcesFile = {
    format: SOURCES_FORMAT,
    version: 1,
    tracks: trackSpecs,
    genes: resolve(o.genes),
    expression: resolve(o.expression),
    options: { ...o.reader, cell: o.reader.cell ?? ds.cell },
  };
  await atomicWrite(join(o.out, SOURCES_FILE_NAME), `${JSON.stringify(sourcesFile, null, 2)}\n`);
  const masked = ds.binMask === undefined ? 0 : ds.binMask.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
  // Load what was written, so the cache holds exactly what parsing these files gives.
  const trainOn = layout ? o.out : join(o.out, SOURCES_FILE_NAME);
  const loaded = await loadCell(trainOn, { cacheDir: join(o.out, '.simplechrome-cache') });
  const build = {
    cell: ds.cell,
    genes: ds.genes,
    bins: ds.bins,
    marks: ds.marks,
    splits: counts,
    options: effectiveOptions(sourcesFile.options),
    binOrder: (o.reader.strand ?? 'reverse') === 'reverse' ? 'transcription direction: the bins of minus-strand genes are reversed (bin 1 is the most upstream)' : 'genome order for every gene',
    maskedBins: masked,
    maskedBinsNote: masked > 0 ? 'bins off the chromosome or without data in any track are 0 here: the DeepChrome layout has no mask; --data on the sources file keeps it' : undefined,
    layout: layout ? 'DeepChrome (classification/)' : `none: the DeepChrome layout holds the marks ${MARKS.join(', ')} only; train on ${SOURCES_FILE_NAME}`,
    geneIds: written.geneIdsShortened ? 'DeepChrome: the last 6 digits of the Ensembl id (genes.tsv maps them back)' : 'as in the gene table',
    notes: ds.notes ?? [],
    sources: { tracks: trackSpecs, genes: resolve(o.genes), expression: resolve(o.expression) },
    files: [...written.files, join(o.out, 'genes.tsv'), join(o.out, SOURCES_FILE_NAME)].map((f) => relative(outAbs, resolve(f))),
    cache: loaded.cache.file !== undefined ? relative(outAbs, loaded.cache.file) : null,
    seconds: { readTracks: (tRead - t0) / 1000, total: (performance.now() - t0) / 1000 },
  };
  await atomicWrite(join(o.out, 'build.json'), `${JSON.stringify(build, null, 2)}\n`);
  const shape = `${ds.genes} genes × ${ds.bins} bins × ${ds.marks.length} mark${ds.marks.length > 1 ? 's' : ''} (train ${counts.train}, valid ${counts.valid}, test ${counts.test})`;
  const took = `in ${build.seconds.total.toFixed(1)} s (tracks read in ${build.seconds.readTracks.toFixed(1)} s)`;
  const sourcesPath = join(o.out, SOURCES_FILE_NAME);
  process.stdout.write(
    layout
      ? `wrote ${ds.cell}: ${shape} to ${join(o.out, 'classification')}/{train,valid,test}.csv ${took}\n` +
          `train on it: ${COMMAND_TO_TYPE} --data ${o.out}   or straight from the tracks, keeping the bin mask: ${COMMAND_TO_TYPE} --data ${sourcesPath}\n`
      : `wrote ${ds.cell}: ${shape}, marks ${ds.marks.join(', ')}, to ${sourcesPath} and its cache ${took}; ` +
          `no DeepChrome layout (it holds the marks ${MARKS.join(', ')} only)\n` +
          `train on it: ${COMMAND_TO_TYPE} --data ${sourcesPath}\n`,
  );
  return 0;
}

function splitCounts(ds: Dataset): Record<Split, number> {
  const c = { train: 0, valid: 0, test: 0 };
  for (let g = 0; g < ds.genes; g++) {
    const s = ds.split[g];
    if (s === SPLIT_CODES.train) c.train++;
    else if (s === SPLIT_CODES.valid) c.valid++;
    else c.test++;
  }
  return c;
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
