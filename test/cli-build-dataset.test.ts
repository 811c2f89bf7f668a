import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/flags/args.ts';
import { parseBuildArgs } from '../src/cli/buildDataset/buildDataset.ts';
import { MARKS } from '../src/data/dataset.ts';
import { readGcMerge } from '../src/data/gcmerge.ts';
import { loadCell } from '../src/data/loadCell.ts';

// build-dataset as a user meets it: a real process on the real E116 tracks,
// the files it writes, what it refuses, and training on the tracks against
// training on the GC-MERGE tables.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const E116 = join(DATA, 'bigwig_E116');
const GCMERGE = join(DATA, 'gcmerge_E116');
if (!existsSync(E116) || !existsSync(GCMERGE)) throw new Error(`real data not found at ${DATA}: these tests need ../shared/datasets (see its README.md)`);

const root = mkdtempSync(join(tmpdir(), 'simplechrome-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(args: readonly string[]) {
  const r = spawnSync(TSX, ['run.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 300_000, env: { ...process.env, XDG_CACHE_HOME: join(root, 'xdg') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const E116_ARGS = ['--tracks', E116, '--genes', join(E116, 'E116_genes_tss.bed'), '--expression', join(E116, 'E116_expression.tsv'), '--bin', '10000', '--flank', '10', '--label-column', 'label_binary'];

describe('build-dataset', () => {
  const out = join(root, 'E116');

  it('writes E116 from the tracks in the DeepChrome layout, with its cache, genes.tsv and the sources file', async () => {
    const r = run(['build-dataset', ...E116_ARGS, '--out', out, '--quiet']);
    expect(r.stderr).not.toContain('Error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote E116: 16699 genes × 21 bins × 5 marks (train 12634, valid 2022, test 2043)');
    for (const f of ['classification/train.csv', 'classification/valid.csv', 'classification/test.csv', 'genes.tsv', 'bigwig-sources.json', 'build.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const build = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { maskedBins: number; options: Record<string, unknown>; cache: string };
    expect(build.options).toMatchObject({ bin: 10000, flank: 10, anchor: 'grid', summary: 'mean0', strand: 'reverse' });
    expect(existsSync(join(out, build.cache))).toBe(true);

    // Read back through the DeepChrome reader: every gene's bins equal GC-MERGE's (masked bins are 0 in both).
    const back = await loadCell(out, { cache: false });
    const gc = await readGcMerge(GCMERGE);
    expect(back.layout).toBe('deepchrome');
    expect(back.dataset.genes).toBe(gc.genes);
    const row = new Map(gc.geneIds.map((id, g) => [id.slice(-6), g]));
    const w = gc.bins * MARKS.length;
    for (let g = 0; g < back.dataset.genes; g++) {
      const h = row.get(back.dataset.geneIds[g] as string) as number;
      expect(back.dataset.labels[g]).toBe(gc.labels[h]);
      expect(back.dataset.split[g]).toBe(gc.split[h]);
      const a = back.dataset.features.subarray(g * w, (g + 1) * w);
      const b = gc.features.subarray(h * w, (h + 1) * w);
      if (!a.every((v, i) => v === b[i])) expect(Array.from(a), `gene ${back.dataset.geneIds[g]}`).toEqual(Array.from(b));
    }
    const genes = readFileSync(join(out, 'genes.tsv'), 'utf8').split('\n');
    expect(genes[0]).toBe('GeneID\tgene_id\tchrom\ttss\tstrand\tbins\tlabel\tsplit');
    expect(genes[1]).toBe('237613\tENSG00000237613\tchr1\t35000\t.\tgenome\t0\ttrain');
    // The cache written beside it is what loading the files gives.
    const cached = await loadCell(out, { cacheDir: join(out, '.simplechrome-cache') });
    expect(cached.cache.status).toBe('hit');
  });

  it('refuses a non-empty --out without --force, and leaves every file there as it was', () => {
    const train = join(out, 'classification', 'train.csv');
    const before = { bytes: readFileSync(train), mtime: statSync(train).mtimeMs };
    const r = run(['build-dataset', ...E116_ARGS, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`build-dataset --out ${out}: the directory is not empty`);
    expect(r.stderr).toContain('pass --force');
    expect(readFileSync(train).equals(before.bytes)).toBe(true);
    expect(statSync(train).mtimeMs).toBe(before.mtime);
  });

  it('--force replaces only its own files', () => {
    const mine = join(out, 'notes.txt');
    writeFileSync(mine, 'my notes');
    const r = run(['build-dataset', ...E116_ARGS, '--out', out, '--force', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('leaving notes.txt');
    expect(readFileSync(mine, 'utf8')).toBe('my notes');
  });

  it('bad arguments are refused before anything is read', () => {
    const fresh = join(root, 'never');
    const cases: [string[], string][] = [
      [['--genes', 'x.bed', '--expression', 'y.tsv', '--out', fresh], 'build-dataset needs --tracks'],
      [['--tracks', E116, '--expression', 'y.tsv', '--out', fresh], 'build-dataset needs --genes FILE'],
      [[...E116_ARGS], 'build-dataset needs --out DIR'],
      [[...E116_ARGS, '--bin', '0', '--out', fresh], 'build-dataset --bin needs an integer ≥ 1, got "0"'],
      [[...E116_ARGS, '--summary', 'max', '--out', fresh], 'build-dataset --summary must be one of mean0, mean, sum; got "max"'],
      [[...E116_ARGS, '--threshold', '1', '--out', fresh], 'give only one of --label-column, --threshold and --quantile'],
      [[...E116_ARGS, '--quantile', '2', '--out', fresh], 'build-dataset --quantile must be in [0, 1], got 2'],
      [[...E116_ARGS, '--bogus', '--out', fresh], 'build-dataset: unknown argument "--bogus"'],
    ];
    for (const [args, what] of cases) {
      expect(() => parseBuildArgs(args), what).toThrow(UsageError);
      expect(() => parseBuildArgs(args), what).toThrow(what);
    }
  });

  it('bad inputs end in one clear line and write nothing', () => {
    const fresh = join(root, 'never');
    const cases: [string[], string][] = [
      [[...E116_ARGS.slice(0, 2), '--genes', join(E116, 'E116_expression.tsv'), ...E116_ARGS.slice(4), '--out', fresh], 'cannot tell the gene table format from the name'],
      [[...E116_ARGS, '--valid-chromosomes', 'chr8', '--out', fresh], 'chr8 listed as both test and valid'],
    ];
    for (const [args, what] of cases) {
      const r = run(['build-dataset', ...args]);
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toContain(what);
      expect(r.stderr, what).not.toContain('    at ');
      expect(existsSync(fresh), what).toBe(false);
    }
  });
});

describe('--data on bigWig sources', () => {
  it('a directory of tracks, a gene table and an expression table loads with the default windows', async () => {
    const dir = join(root, 'sources');
    mkdirSync(dir);
    for (const m of MARKS) symlinkSync(join(E116, `E116_${m}.10kb.bw`), join(dir, `E116_${m}.10kb.bw`));
    symlinkSync(join(E116, 'E116_genes_tss.bed'), join(dir, 'genes.bed'));
    symlinkSync(join(E116, 'E116_expression.tsv'), join(dir, 'expression.tsv'));
    const cell = await loadCell(dir, { cacheDir: join(root, 'cache') });
    expect(cell.layout).toBe('bigwig');
    expect([cell.dataset.cell, cell.dataset.genes, cell.dataset.bins]).toEqual(['E116', 16699, 101]);
    const again = await loadCell(dir, { cacheDir: join(root, 'cache') });
    expect(again.cache.status).toBe('hit');
  });

  it('training on the tracks gives the same metrics as training on the GC-MERGE layout with the same seed', () => {
    const sources = join(root, 'E116', 'bigwig-sources.json');
    const common = ['--cpu', '--model', 'mlp', '--epochs', '1', '--train-size', '2000', '--seed', '7', '--quiet'];
    const a = run([...common, '--data', sources, '--out', join(root, 'run-tracks')]);
    const b = run([...common, '--data', GCMERGE, '--out', join(root, 'run-gcmerge')]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const m = (d: string) => JSON.parse(readFileSync(join(root, d, 'metrics.json'), 'utf8')) as { test: { auroc: number; aupr: number }; valid: { auroc: number }; data: { layout: string; fingerprint: string } };
    const tracks = m('run-tracks');
    const gcmerge = m('run-gcmerge');
    expect([tracks.data.layout, gcmerge.data.layout]).toEqual(['bigwig', 'gcmerge']);
    expect(tracks.data.fingerprint).toBe(gcmerge.data.fingerprint);
    expect(tracks.test.auroc).toBe(gcmerge.test.auroc);
    expect(tracks.test.aupr).toBe(gcmerge.test.aupr);
    expect(tracks.valid.auroc).toBe(gcmerge.valid.auroc);
    expect(tracks.test.auroc).toBeGreaterThan(0.8);
  });
});
