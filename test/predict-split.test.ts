import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { DEFAULT_EXPRESSION_TABLE, DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { readModelDirectory } from '../src/cli/use/useModel.ts';
import { type Dataset, MARKS, SPLIT_CODES, splitName } from '../src/data/dataset.ts';
import { expressionTargets } from '../src/data/expressionTargets.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { applyNormalization } from '../src/data/normalize.ts';
import { predictOutputs } from '../src/train/predictWith.ts';
import { scoresBySplit } from '../src/train/splitScores.ts';
import { runMain } from './cliHelpers.ts';

// predict scores each split of a cell apart (and all genes together), writes
// each gene's split in its table, and says how the data stands to the data
// the model trained on: on that very data (the checkpoint's fingerprint
// matches) its train split holds the genes the model fit, and its test row is
// the training run's own test score, bit for bit on the same device.

const E003 = DEFAULT_REAL_SAMPLE;
const E123 = DEFAULT_REAL_SAMPLE.replace('E003', 'E123');
const LONG = 300_000;
const quiet = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-psplit-${tag}-`));

interface Metrics {
  valid: Record<string, number>;
  test: Record<string, number>;
}

/** A tiny mlp run for `target` on the E003 sample, trained before the tests of the describe block it is called in. */
function trainedRun(target: 'class' | 'expression'): { model: string; metrics: Metrics } {
  const run = { model: '', metrics: { valid: {}, test: {} } as Metrics };
  beforeAll(async () => {
    run.model = join(tmp(target), 'run');
    const flags = ['--cpu', '--model', 'mlp', '--target', target, '--train-size', '100', '--epochs', '2', '--data', E003, '--out', run.model, '--quiet'];
    await trainToDirectory(parseArgs(flags), { progress: quiet });
    run.metrics = JSON.parse(readFileSync(join(run.model, 'metrics.json'), 'utf8')) as Metrics;
  }, LONG);
  return run;
}

/** `predict` of `data` with the model, into a new file: its stderr, the file, and the file's header and rows. */
async function predicted(model: string, data: string): Promise<{ stderr: string; out: string; header: string; rows: string[][] }> {
  const out = join(tmp('out'), 'p.csv');
  const r = await runMain(['predict', '--model', model, '--data', data, '--out', out, '--cpu']);
  expect(r.code, r.stderr).toBe(0);
  return { stderr: r.stderr, out, ...readCsv(out) };
}

/** A CSV's header and its rows split into fields. */
function readCsv(file: string): { header: string; rows: string[][] } {
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  return { header: header as string, rows: rows.map((r) => r.split(',')) };
}

const countsOf = (splits: readonly string[]) => Object.fromEntries(['train', 'valid', 'test'].map((s) => [s, splits.filter((x) => x === s).length]));

/** The summary table's row for `split`, as stderr shows it. */
const row = (stderr: string, split: string) => stderr.split('\n').find((l) => l.startsWith(`  ${split} `));

describe('predict by split: a classifier trained on 100 genes of the E003 sample', () => {
  const run = trainedRun('class');

  it('on E003 itself: every gene with its split, each split scored, test the run’s own score bit for bit, train named as trained on', async () => {
    const { model, metrics } = run;
    const r = await predicted(model, E003);
    const raw = (await loadCell(E003, { cache: false })).dataset;
    const { header, rows } = r;
    expect(header).toBe('gene_id,label,probability,split');
    expect(rows.map((f) => f[0])).toEqual(raw.geneIds);
    expect(rows.map((f) => f[3])).toEqual(Array.from(raw.split, splitName));
    expect(countsOf(rows.map((f) => f[3] as string))).toEqual({ train: 200, valid: 200, test: 200 });
    // The run's own predictions.csv (its test genes) is the same rows.
    const byGene = new Map(rows.map((f) => [f[0], f.join(',')]));
    const own = readCsv(join(model, 'predictions.csv'));
    expect(own.header).toBe(header);
    expect(own.rows).toHaveLength(200);
    for (const f of own.rows) expect(byGene.get(f[0]), f[0]).toBe(f.join(','));

    const f4 = (x: number | undefined) => (x as number).toFixed(4);
    expect(r.stderr).toContain("predict: scores against E003's labels, by split:\n  split  genes  AUROC   AUPR    note\n");
    expect(row(r.stderr, 'train')).toMatch(/^ {2}train {2}200 {4}\d\.\d{4} {2}\d\.\d{4} {2}trained on: the model fit the labels of 100 of these genes, so this is optimistic$/);
    expect(row(r.stderr, 'valid')).toBe(`  valid  200    ${f4(metrics.valid.auroc)}  ${f4(metrics.valid.aupr)}  chose the model (its best epoch): slightly optimistic`);
    expect(row(r.stderr, 'test')).toBe(`  test   200    ${f4(metrics.test.auroc)}  ${f4(metrics.test.aupr)}  held out: the training run's test score`);
    expect(row(r.stderr, 'all')).toMatch(/^ {2}all {4}600 {4}\d\.\d{4} {2}\d\.\d{4} {2}mixes the splits$/);
    expect(r.stderr).toContain('predict: this is the data the model trained on (the fingerprint in its checkpoint matches): it trained on its train split; quote test\n');
    expect(r.stderr).toContain(`predict: 600 genes; wrote ${r.out}\n`);

    // Through the functions predict calls: every score of valid and test is the run's, to the last bit.
    const m = await readModelDirectory(model, 'classifier');
    const ds = applyNormalization(raw, m.normalization);
    const scores = scoresBySplit('class', ds, ds.labels, await predictOutputs(m, ds, { kind: 'cpu' }));
    expect(scores.map((s) => [s.split, s.genes])).toEqual([['train', 200], ['valid', 200], ['test', 200], ['all', 600]]);
    expect(scores[1]?.scores).toEqual(metrics.valid);
    expect(scores[2]?.scores).toEqual(metrics.test);
  }, LONG);

  it('on E123: its own splits, scored without notes, and a warning that its train genes are the ones the model fit in E003', async () => {
    const r = await predicted(run.model, E123);
    const raw = (await loadCell(E123, { cache: false })).dataset;
    expect(r.rows.map((f) => f[3])).toEqual(Array.from(raw.split, splitName));
    expect(r.stderr).toContain("predict: scores against E123's labels, by split:\n  split  genes  AUROC   AUPR\n  -----  -----  ------  ------\n");
    for (const [split, genes] of [['train', 200], ['valid', 200], ['test', 200], ['all', 600]] as const) {
      expect(row(r.stderr, split)).toMatch(new RegExp(`^ {2}${split} +${genes} +\\d\\.\\d{4} {2}\\d\\.\\d{4}$`));
    }
    expect(r.stderr).toContain(
      `predict: the model trained on E003's train split (${E003}); cells split alike, as the DeepChrome-derived ones are, ` +
        "share their train genes, so E123's train rows score genes whose E003 labels the model fit; quote test\n",
    );
  }, LONG);

  it('on one split file of E003: the same cell but other data (another fingerprint); its one split, no "all" row', async () => {
    const { metrics } = run;
    const r = await predicted(run.model, `${E003}.test.csv.gz`);
    expect(countsOf(r.rows.map((f) => f[3] as string))).toEqual({ train: 0, valid: 0, test: 200 });
    // The same genes as the run's test split, so the same score.
    expect(row(r.stderr, 'test')).toBe(`  test   200    ${metrics.test.auroc?.toFixed(4)}  ${metrics.test.aupr?.toFixed(4)}`);
    expect(row(r.stderr, 'all')).toBeUndefined();
    expect(r.stderr).toContain(`predict: the model trained on E003 too, but on other data (${E003}; the fingerprints differ)`);
  }, LONG);
});

describe('predict by split: an expression model trained on 100 genes of the E003 sample', () => {
  const run = trainedRun('expression');

  it('on E003: observed and predicted log10(RPKM + 1) with each gene’s split; Pearson, Spearman and MSE per split, test the run’s own', async () => {
    const { model, metrics } = run;
    const r = await predicted(model, E003);
    const { header, rows } = r;
    expect(header).toBe('gene_id,observed_log10_rpkm_plus1,predicted_log10_rpkm_plus1,split');
    expect(countsOf(rows.map((f) => f[3] as string))).toEqual({ train: 200, valid: 200, test: 200 });
    const byGene = new Map(rows.map((f) => [f[0], f.join(',')]));
    const own = readCsv(join(model, 'predictions.csv'));
    expect(own.header).toBe(header);
    for (const f of own.rows) expect(byGene.get(f[0]), f[0]).toBe(f.join(','));

    const f4 = (x: number | undefined) => (x as number).toFixed(4);
    expect(r.stderr).toContain("predict: scores against E003's log10(RPKM + 1), by split:\n  split  genes  Pearson  Spearman  MSE     note\n");
    const t = metrics.test;
    expect(row(r.stderr, 'test')).toMatch(new RegExp(`^ {2}test +200 +${f4(t.pearson)} +${f4(t.spearman)} +${f4(t.mse)} {2}held out: the training run's test score$`));
    expect(row(r.stderr, 'train')).toContain('trained on: the model fit the expression values of 100 of these genes, so this is optimistic');
    for (const split of ['valid', 'all']) expect(row(r.stderr, split)).toMatch(new RegExp(`^ {2}${split} +\\d+ +-?\\d\\.\\d{4} +-?\\d\\.\\d{4} +\\d\\.\\d{4} {2}`));

    const raw = (await loadCell(E003, { cache: false })).dataset;
    const m = await readModelDirectory(model, 'classifier');
    const ds = applyNormalization(raw, m.normalization);
    const observed = await expressionTargets(raw, 'deepchrome', DEFAULT_EXPRESSION_TABLE);
    const scores = scoresBySplit('expression', ds, observed, await predictOutputs(m, ds, { kind: 'cpu' }));
    expect(scores[1]?.scores).toEqual(metrics.valid);
    expect(scores[2]?.scores).toEqual(metrics.test);
  }, LONG);

  it('on a cell the RPKM table has no column for: the predictions with their splits, and why nothing is scored', async () => {
    const root = tmp('syn');
    await writeSynthetic(root, { genes: 10, seed: 7, cell: 'SYNTHETIC-P' });
    const r = await predicted(run.model, join(root, 'SYNTHETIC-P'));
    expect(r.stderr).toContain(
      'predict: not scored: no observed expression for SYNTHETIC-P (--target expression: the deepchrome layout has no expression values, ' +
        `and the RPKM table ${DEFAULT_EXPRESSION_TABLE} that would provide them has no column for cell "SYNTHETIC-P"`,
    );
    expect(r.stderr).toContain('); the table has the predictions only\n');
    expect(r.stderr).not.toContain('by split');
    expect(r.header).toBe('gene_id,predicted_log10_rpkm_plus1,split');
    expect(countsOf(r.rows.map((f) => f[2] as string))).toEqual({ train: 10, valid: 10, test: 10 });
  }, LONG);
});

describe('scoresBySplit', () => {
  const cell = (split: number[], labels: number[]): Dataset => ({
    cell: 'SYNTHETIC-S',
    genes: split.length,
    bins: 1,
    marks: MARKS,
    features: new Float32Array(split.length * MARKS.length),
    labels: Uint8Array.from(labels),
    split: Uint8Array.from(split),
    geneIds: split.map((_, g) => `g${g}`),
    source: [],
  });
  const { train, valid, test } = SPLIT_CODES;

  it('names what it cannot score: a split of one class, one gene of expression, and one value for every gene', () => {
    const ds = cell([train, train, valid, valid, test, test, test], [0, 1, 1, 1, 0, 1, 1]);
    const outputs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
    const scores = scoresBySplit('class', ds, ds.labels, outputs);
    expect(scores.map((s) => [s.split, s.genes, s.why])).toEqual([
      ['train', 2, undefined],
      ['valid', 2, 'every gene has label 1'],
      ['test', 3, undefined],
      ['all', 7, undefined],
    ]);
    expect(scores[1]?.scores).toBeUndefined();
    expect(scores[0]?.scores).toMatchObject({ auroc: 1 });

    const expr = cell([train, train, valid, test, test], [0, 0, 0, 0, 0]);
    const e = scoresBySplit('expression', expr, [1, 2, 3, 0.5, 0.5], [1, 2, 3, 4, 5]);
    expect(e.map((s) => [s.split, s.why])).toEqual([
      ['train', undefined],
      ['valid', 'fewer than 2 genes'],
      ['test', 'every gene has log10(RPKM + 1) = 0.5'],
      ['all', undefined],
    ]);
    expect(e[0]?.scores).toMatchObject({ pearson: 1, spearman: 1 });
  });

  it('data of one split gives that split alone, with no "all" row repeating it', () => {
    const ds = cell([test, test, test], [0, 1, 1]);
    expect(scoresBySplit('class', ds, ds.labels, [0.1, 0.9, 0.8]).map((s) => s.split)).toEqual(['test']);
  });

  it('a split code no split has is refused, naming the codes', () => {
    expect(() => splitName(3)).toThrow('split code 3: expected 0 (train), 1 (valid), 2 (test)');
  });
});
