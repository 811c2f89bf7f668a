import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { pearson, spearman } from '../src/metrics/correlation.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// --target expression end to end through the command line, on real data
// (../shared/datasets; missing data fails this file): the GC-MERGE layout
// (E116, its own log10_rpkm_plus1) and the DeepChrome layout (the E003 sample,
// expression from the RPKM table), on both executors.

const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const E116 = join(DATA, 'gcmerge_E116');
const E003 = join(DATA, 'derived_deepchrome_format', 'E003_sample600');
const ATTENTIVE = join(DATA, 'raw_deepdiff_attentivechrome_sample', 'Cell1');
if (!existsSync(E116) || !existsSync(`${E003}.train.csv.gz`) || !existsSync(`${ATTENTIVE}.train.csv.gz`)) {
  throw new Error(`real data not found at ${DATA}: these tests need ../shared/datasets (see its README.md)`);
}

const dirs: string[] = [];
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sc-regress-'));
  dirs.push(d);
  return join(d, 'run');
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface RegressionMetrics {
  target: string;
  bestEpoch: number;
  history: { valid: { pearson: number } }[];
  valid: { mse: number; pearson: number; spearman: number };
  test: { mse: number; pearson: number; spearman: number; loss: number };
  config: { target: string };
}

function readRun(out: string): { metrics: RegressionMetrics; observed: number[]; predicted: number[]; ids: string[] } {
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as RegressionMetrics;
  const [header, ...rows] = readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n');
  expect(header).toBe('gene_id,observed_log10_rpkm_plus1,predicted_log10_rpkm_plus1,split');
  const cells = rows.map((r) => r.split(','));
  return {
    metrics,
    ids: cells.map((c) => c[0] as string),
    observed: cells.map((c) => Number(c[1])),
    predicted: cells.map((c) => Number(c[2])),
  };
}

const cases = [
  { name: 'E116 (GC-MERGE layout)', data: E116, extra: ['--train-size', '1000', '--epochs', '2'], testGenes: 2043 },
  { name: 'the E003 sample (DeepChrome layout)', data: E003, extra: ['--epochs', '3'], testGenes: 200 },
];

describe('--target expression trains a regression head end to end', () => {
  const measured: Record<string, number> = {};
  for (const c of cases) {
    for (const device of ['--cpu', '--gpu'] as const) {
      it(`${c.name}, ${device}: test Pearson is the one predictions.csv gives, and well above 0.3`, async () => {
        const out = fresh();
        // No GEMM timing on the GPU: the variants are not what this test is about.
        const on = device === '--gpu' ? ['--gpu', '--gemm', 'heuristic'] : ['--cpu'];
        const r = await runMain([...on, '--model', 'mlp', '--target', 'expression', '--data', c.data, ...c.extra, '--out', out]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/mlp epoch {3}1\/\d {2}loss \d\.\d{4} {2}valid Pearson -?\d\.\d{4}/);
        expect(r.stdout).toMatch(/^model +cell +labeled genes +best epoch +valid Pearson +test Pearson +test Spearman +test MSE$/m);
        const { metrics, observed, predicted, ids } = readRun(out);
        if (c.data === E116) {
          const genes = gunzipSync(readFileSync(join(E116, 'gcmerge_E116_genes.csv.gz'))).toString('utf8').trim().split('\n');
          const at = (genes[0] as string).split(',').indexOf('log10_rpkm_plus1');
          const valueOf = new Map(genes.slice(1).map((l) => l.split(',')).map((f) => [f[0], Number(f[at])]));
          ids.forEach((id, i) => expect(observed[i]).toBeCloseTo(valueOf.get(id) as number, 4));
        }
        expect(metrics.target).toBe('expression');
        expect(metrics.config.target).toBe('expression');
        expect(observed).toHaveLength(c.testGenes);
        // The CSV keeps 6 significant digits, so the recomputed correlations agree to about 1e-5.
        expect(Math.abs(pearson(observed, predicted) - metrics.test.pearson)).toBeLessThan(1e-4);
        expect(Math.abs(spearman(observed, predicted) - metrics.test.spearman)).toBeLessThan(1e-3);
        const mse = observed.reduce((s, y, i) => s + ((predicted[i] as number) - y) ** 2, 0) / observed.length;
        expect(Math.abs(mse - metrics.test.mse)).toBeLessThan(1e-4);
        expect(metrics.test.loss).toBe(metrics.test.mse);
        // The best epoch is the one with the highest validation Pearson.
        const best = Math.max(...metrics.history.map((h) => h.valid.pearson));
        expect(metrics.history[metrics.bestEpoch - 1]?.valid.pearson).toBe(best);
        expect(metrics.test.pearson).toBeGreaterThan(0.3);
        expect(existsSync(join(out, 'scatter.svg'))).toBe(true);
        expect(readFileSync(join(out, 'scatter.svg'), 'utf8')).toContain(`Pearson ${metrics.test.pearson.toFixed(3)}`);
        expect(existsSync(join(out, 'roc.svg'))).toBe(false);
        expect(existsSync(join(out, 'pr.svg'))).toBe(false);
        const key = `${c.name}|${device}`;
        measured[key] = metrics.test.pearson;
        const other = measured[`${c.name}|${device === '--cpu' ? '--gpu' : '--cpu'}`];
        if (other !== undefined) expect(Math.abs(other - metrics.test.pearson)).toBeLessThan(0.02);
      });
    }
  }

  it('observed values of the DeepChrome layout are log10(RPKM + 1) of the RPKM table (E116\'s, GC-MERGE\'s column: checked above)', async () => {
    const out = fresh();
    expect((await runMain(['--cpu', '--quiet', '--model', 'logreg', '--target', 'expression', '--data', E003, '--epochs', '1', '--out', out])).code).toBe(0);
    const { ids, observed } = readRun(out);
    // From rpkm_19802genes_x_56cells.csv.gz, column E003, matched on geneid6 (DeepChrome's GeneID).
    const table = gunzipSync(readFileSync(join(DATA, 'labels_rpkm_shallowchrome', 'rpkm_19802genes_x_56cells.csv.gz'))).toString('utf8').split('\n');
    const col = (table[0] as string).split(',').indexOf('E003');
    const rpkmOf = new Map(table.slice(1).map((l) => l.split(',')).map((f) => [f[1], Number(f[col])]));
    ids.slice(0, 20).forEach((id, i) => expect(observed[i]).toBeCloseTo(Math.log10((rpkmOf.get(id) as number) + 1), 4));
  });
});

describe('--target expression keeps its target through resume and predict', () => {
  it('resumes as a regression run, refuses --target class on it, and predict writes predicted expression beside E123\'s observed', async () => {
    const out = fresh();
    expect((await runMain(['--cpu', '--quiet', '--model', 'mlp', '--target', 'expression', '--data', E003, '--epochs', '1', '--out', out])).code).toBe(0);
    const before = snapshot(out);
    const refused = await runMain(['--resume', out, '--epochs', '2', '--target', 'class']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--target class conflicts with the checkpoint in ${out} (--target expression)`);
    expect(snapshot(out)).toEqual(before);
    const resumed = await runMain(['--resume', out, '--epochs', '2', '--quiet']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/valid Pearson +test Pearson/);
    const { metrics } = readRun(out);
    expect(metrics.target).toBe('expression');
    expect(metrics.history).toHaveLength(2);
    const predictions = join(out, '..', 'e123.csv');
    const p = await runMain(['predict', '--model', out, '--data', join(DATA, 'derived_deepchrome_format', 'E123_sample600'), '--cpu', '--out', predictions]);
    expect(p.code).toBe(0);
    const lines = readFileSync(predictions, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('gene_id,observed_log10_rpkm_plus1,predicted_log10_rpkm_plus1,split');
    expect(lines).toHaveLength(601);
    expect(lines.slice(1).every((l) => Number.isFinite(Number(l.split(',')[2])))).toBe(true);
    expect(p.stderr).toMatch(/predict: scores against E123's log10\(RPKM \+ 1\), by split:\n {2}split +genes +Pearson +Spearman +MSE\n/);
  });
});

describe('--target refuses what it cannot do, naming why, and writes nothing', () => {
  it('an unknown target lists the allowed ones', async () => {
    const out = fresh();
    const r = await runMain(['--cpu', '--target', 'rpkm', '--data', E003, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--target must be one of class, expression; got "rpkm"');
    expect(existsSync(out)).toBe(false);
  });

  it('a layout without expression values names the file that would provide them', async () => {
    const out = fresh();
    const r = await runMain(['--cpu', '--target', 'expression', '--model', 'mlp', '--data', ATTENTIVE, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      '--target expression: the attentivechrome layout has no expression values, and the RPKM table ' +
        `${join(DATA, 'labels_rpkm_shallowchrome', 'rpkm_19802genes_x_56cells.csv.gz')} that would provide them has no column for cell "Cell1"`,
    );
    expect(snapshot(join(out, '..'))).toEqual({});
  });

  it('predict takes no --target: the model was trained for one', async () => {
    const r = await runMain(['predict', '--model', fresh(), '--data', E003, '--target', 'expression']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('predict: --target is a training flag and does not apply to predict, which uses the model as trained');
  });

  it('--self-check takes no --target', async () => {
    const r = await runMain(['--self-check', '--target', 'expression']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--target does not apply to --self-check');
  });
});
