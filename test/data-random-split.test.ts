import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBuildArgs } from '../src/cli/buildDataset/buildDataset.ts';
import { UsageError } from '../src/cli/flags/args.ts';
import { readBigWigCell } from '../src/data/bigwig.ts';
import { DataError, MARKS, SPLIT_CODES } from '../src/data/dataset.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { randomSplit } from '../src/data/randomSplit.ts';

// A split drawn at random (--split random:TRAIN,VALID,TEST --seed N), for a
// cell whose genes are on one chromosome: exact counts, the same split
// whatever the gene table's order, another one for another seed, and the
// flag's and the sources file's bad values refused with what was wrong.

const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const ENCODE = join(DATA, 'encode_bigwig', 'ENCFF826FLP.bw');
const E116 = join(DATA, 'bigwig_E116');
if (!existsSync(ENCODE) || !existsSync(E116)) throw new Error(`real data not found at ${DATA}: these tests need ../shared/datasets (see its README.md)`);

let root = '';
let bed = '';
const expression = join(E116, 'E116_expression.tsv');
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-random-split-'));
  bed = join(root, 'chr22.bed');
  const lines = (await readFile(join(E116, 'E116_genes_tss.bed'), 'utf8')).split('\n').filter((l) => l.startsWith('chr22\t'));
  await writeFile(bed, `${lines.join('\n')}\n`);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const count = (split: Uint8Array, code: number): number => split.reduce((a, s) => a + (s === code ? 1 : 0), 0);

describe('random split', () => {
  it('exact counts, independent of the genes\' order, another split for another seed', () => {
    const ids = Array.from({ length: 389 }, (_, i) => `ENSG${String(i * 7919).padStart(11, '0')}`);
    const a = randomSplit(ids, { fractions: [0.8, 0.1, 0.1], seed: 1 });
    expect([count(a, SPLIT_CODES.train), count(a, SPLIT_CODES.valid), count(a, SPLIT_CODES.test)]).toEqual([311, 39, 39]);
    const reversed = randomSplit([...ids].reverse(), { fractions: [0.8, 0.1, 0.1], seed: 1 });
    expect([...reversed].reverse()).toEqual([...a]);
    const other = randomSplit(ids, { fractions: [0.8, 0.1, 0.1], seed: 2 });
    expect([...other]).not.toEqual([...a]);
    expect(count(other, SPLIT_CODES.test)).toBe(39);
  });

  it('a chr22-only cell splits at random, and its sources file rebuilds the same split', async () => {
    const rule = { fractions: [0.6, 0.2, 0.2] as [number, number, number], seed: 5 };
    const tracks = MARKS.map((m) => `${m}=${ENCODE}`);
    const ds = await readBigWigCell({ tracks, genes: bed, expression }, { bin: 1000, flank: 2, randomSplit: rule });
    expect(ds.genes).toBe(389);
    expect([count(ds.split, 0), count(ds.split, 1), count(ds.split, 2)]).toEqual([233, 78, 78]);
    expect(ds.notes).toContain('split at random (seed 5): 0.6 train, 0.2 valid, 0.2 test of the genes');
    const sources = join(root, 'bigwig-sources.json');
    await writeFile(sources, JSON.stringify({ format: 'simplechrome-bigwig-sources', version: 1, tracks, genes: bed, expression, options: { bin: 1000, flank: 2, randomSplit: rule } }));
    const back = await loadCell(sources, { cache: false });
    expect([...back.dataset.split]).toEqual([...ds.split]);
  });

  it('--split and --seed: what they set, and every bad value refused with what was wrong', () => {
    const base = ['--tracks', ENCODE, '--genes', 'g.bed', '--expression', 'e.tsv', '--out', join(root, 'never')];
    expect(parseBuildArgs([...base, '--split', 'random:0.8,0.1,0.1', '--seed', '7']).reader.randomSplit).toEqual({ fractions: [0.8, 0.1, 0.1], seed: 7 });
    expect(parseBuildArgs([...base, '--split', 'random:0.8,0.1,0.1']).reader.randomSplit).toEqual({ fractions: [0.8, 0.1, 0.1], seed: 1 });
    expect(parseBuildArgs([...base, '--split', 'chromosomes']).reader.randomSplit).toBeUndefined();
    const cases: [string[], string][] = [
      [['--split', 'random:0.8,0.2'], 'build-dataset --split random:0.8,0.2: needs three shares (train, valid, test), got 2 (e.g. --split random:0.8,0.1,0.1)'],
      [['--split', 'random:0.8,0.3,0.1'], 'build-dataset --split random:0.8,0.3,0.1: the shares must sum to 1, 0.8 + 0.3 + 0.1 = 1.2'],
      [['--split', 'random:0.8,,0.2'], 'each share must be a number in [0, 1], got 0.8, NaN, 0.2'],
      [['--split', 'genes'], 'build-dataset --split genes: expected chromosomes or random:TRAIN,VALID,TEST'],
      [['--split', 'random:0.8,0.1,0.1', '--test-chromosomes', 'chr8'], 'draws every split at random: drop --test-chromosomes and --valid-chromosomes, or drop --split'],
      [['--seed', '3'], 'build-dataset --seed seeds a random split: give it with --split random:TRAIN,VALID,TEST'],
      [['--split', 'random:0.8,0.1,0.1', '--seed', '-1'], 'build-dataset --seed needs an integer ≥ 0, got "-1"'],
    ];
    for (const [args, what] of cases) {
      expect(() => parseBuildArgs([...base, ...args]), what).toThrow(UsageError);
      expect(() => parseBuildArgs([...base, ...args]), what).toThrow(what);
    }
  });

  it('a sources file with a bad randomSplit is refused, naming the file', async () => {
    const sources = join(root, 'bad-sources.json');
    const body = { format: 'simplechrome-bigwig-sources', version: 1, tracks: MARKS.map((m) => `${m}=${ENCODE}`), genes: bed, expression };
    const text = JSON.stringify({ ...body, options: { randomSplit: { fractions: [0.5, 0.5, 0.5], seed: 1 } } });
    await writeFile(sources, text);
    const e = await loadCell(sources, { cache: false }).then(() => undefined, (x: unknown) => x as DataError);
    expect(e).toBeInstanceOf(DataError);
    expect(e?.message).toBe(`${sources}: options: "randomSplit": the shares must sum to 1, 0.5 + 0.5 + 0.5 = 1.5`);
    expect(await readFile(sources, 'utf8')).toBe(text);
  });
});
