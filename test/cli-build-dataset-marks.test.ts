import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readBigWigCell } from '../src/data/bigwig.ts';
import { MARKS } from '../src/data/dataset.ts';
import { inputBins } from '../src/models/modelSpec.ts';
import { classifierSpecFor, MODEL_NAMES } from '../src/models/registry.ts';
import { snapshot } from './cliHelpers.ts';

// Tracks as users have them: one real ENCODE bigWig alone (chr22 only, named
// H3K27ac here) becomes a one-mark cell split at random, a model trains on it
// for an epoch, and that model refuses data with other marks at predict and
// at --resume, naming both lists. Beside E116's five tracks the same file is
// a sixth mark.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const ENCODE = join(DATA, 'encode_bigwig', 'ENCFF826FLP.bw');
const E116 = join(DATA, 'bigwig_E116');
if (!existsSync(ENCODE) || !existsSync(E116)) throw new Error(`real data not found at ${DATA}: these tests need ../shared/datasets (see its README.md)`);

const root = mkdtempSync(join(tmpdir(), 'simplechrome-marks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(args: readonly string[]) {
  const r = spawnSync(TSX, ['run.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 600_000, env: { ...process.env, XDG_CACHE_HOME: join(root, 'xdg') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// E116's 389 chr22 genes (hg19, as ENCFF826FLP) and its labels.
const bed = join(root, 'chr22.bed');
writeFileSync(bed, `${readFileSync(join(E116, 'E116_genes_tss.bed'), 'utf8').split('\n').filter((l) => l.startsWith('chr22\t')).join('\n')}\n`);
const expression = join(E116, 'E116_expression.tsv');
const TABLES = ['--genes', bed, '--expression', expression, '--label-column', 'label_binary', '--bin', '1000', '--flank', '5'];
const RANDOM = ['--split', 'random:0.8,0.1,0.1', '--seed', '3'];

describe('a one-mark cell from the ENCODE track alone', () => {
  const cell = join(root, 'chr22-H3K27ac');
  const model = join(root, 'mlp');

  it('builds with a random split: the sources file and its cache, no DeepChrome layout', () => {
    const r = run(['build-dataset', '--tracks', `H3K27ac=${ENCODE}`, ...TABLES, ...RANDOM, '--out', cell, '--quiet']);
    expect(r.stderr).not.toContain('Error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote encode_bigwig: 389 genes × 11 bins × 1 mark (train 311, valid 39, test 39), marks H3K27ac, to ${join(cell, 'bigwig-sources.json')}`);
    expect(r.stdout).toContain(`no DeepChrome layout (it holds the marks ${MARKS.join(', ')} only)`);
    expect(r.stdout).toContain(`train on it: npx tsx run.ts --data ${join(cell, 'bigwig-sources.json')}`);
    expect(existsSync(join(cell, 'classification'))).toBe(false);
    const build = JSON.parse(readFileSync(join(cell, 'build.json'), 'utf8')) as { marks: string[]; options: Record<string, unknown>; cache: string; splits: Record<string, number> };
    expect(build.marks).toEqual(['H3K27ac']);
    expect(build.options.randomSplit).toEqual({ fractions: [0.8, 0.1, 0.1], seed: 3 });
    expect(existsSync(join(cell, build.cache))).toBe(true);
    const genes = readFileSync(join(cell, 'genes.tsv'), 'utf8').trim().split('\n');
    expect(genes.length).toBe(390);
    expect(genes.slice(1).filter((l) => l.endsWith('\ttest')).length).toBe(39);
  }, 600_000);

  it('trains one model for an epoch on it (--cpu)', () => {
    const r = run(['--cpu', '--model', 'mlp', '--epochs', '1', '--data', join(cell, 'bigwig-sources.json'), '--out', model, '--quiet']);
    expect(r.stderr).not.toContain('Error');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('389 genes × 11 bins × 1 marks');
    const metrics = JSON.parse(readFileSync(join(model, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(JSON.stringify(metrics)).toContain('auroc');
  }, 600_000);

  it('the model refuses data with other marks at predict and at --resume, naming both lists; nothing is written or changed', () => {
    // The same genes and windows from the five E116 tracks.
    const five = join(root, 'chr22-five');
    const b = run(['build-dataset', '--tracks', E116, ...TABLES, ...RANDOM, '--out', five, '--quiet']);
    expect(b.code, b.stderr).toBe(0);
    const other = join(five, 'bigwig-sources.json');
    const both = `the model was trained on the marks [H3K27ac], the data has [${MARKS.join(', ')}]; a model reads the marks it was trained on, in their order`;
    const before = snapshot(model);
    const predicted = join(root, 'predicted.csv');
    const p = run(['predict', '--model', model, '--data', other, '--out', predicted, '--cpu', '--quiet']);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(`--data ${other}: the model in ${model}: ${both}`);
    expect(p.stderr).not.toContain('    at ');
    expect(existsSync(predicted)).toBe(false);
    const r = run(['--resume', model, '--data', other, '--epochs', '2', '--cpu', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--data ${other}: --resume ${model}: ${both}`);
    expect(snapshot(model)).toEqual(before);
  }, 600_000);

  it('--force into a directory with a DeepChrome layout it would not replace is refused, and nothing there changes', () => {
    const dir = join(root, 'with-layout');
    mkdirSync(join(dir, 'classification'), { recursive: true });
    writeFileSync(join(dir, 'classification', 'train.csv'), '1,1,0,0,0,0,0,1\n');
    const before = snapshot(dir);
    const r = run(['build-dataset', '--tracks', `H3K27ac=${ENCODE}`, ...TABLES, ...RANDOM, '--out', dir, '--force', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`build-dataset --out ${dir} --force: ${join(dir, 'classification')} holds a DeepChrome-layout build, which these marks do not replace`);
    expect(snapshot(dir)).toEqual(before);
  }, 600_000);
});

describe('any number of marks', () => {
  it('E116\'s five tracks and the ENCODE track are six marks, DeepChrome\'s five first', async () => {
    const ds = await readBigWigCell(
      { tracks: [E116, `H3K27ac=${ENCODE}`], genes: bed, expression },
      { bin: 1000, flank: 5, randomSplit: { fractions: [0.8, 0.1, 0.1], seed: 3 } },
    );
    expect(ds.marks).toEqual([...MARKS, 'H3K27ac']);
    expect(ds.genes).toBe(389);
    expect(ds.features.length).toBe(389 * 11 * 6);
    // The sixth column is the ENCODE track's, the others E116's.
    const alone = await readBigWigCell({ tracks: [`H3K27ac=${ENCODE}`], genes: bed, expression }, { bin: 1000, flank: 5, randomSplit: { fractions: [0.8, 0.1, 0.1], seed: 3 } });
    for (let i = 0; i < 389 * 11; i++) expect(ds.features[i * 6 + 5]).toBe(alone.features[i]);
    expect([...ds.split]).toEqual([...alone.split]);
  });

  it('every model that reads the window takes its mark count from the data', () => {
    let windowModels = 0;
    for (const name of MODEL_NAMES) {
      const spec = (marks: number) => classifierSpecFor(name, { bins: 11, marks, latentWidth: 4, derivedWidth: 3 });
      if (inputBins(spec(1)) === undefined) continue;
      windowModels++;
      const one = JSON.stringify(spec(1));
      const six = JSON.stringify(spec(6));
      expect(six, name).not.toBe(one);
    }
    expect(windowModels).toBeGreaterThanOrEqual(3);
  });
});
