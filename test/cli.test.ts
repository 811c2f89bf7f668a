import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/flags/args.ts';

// The command line as a user meets it: a real process, real data from
// ../shared/datasets, exit codes and messages.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

function run(args: readonly string[]) {
  const r = spawnSync(TSX, ['run.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('flags are parsed strictly', () => {
  it.each([
    [['--bogus'], 'unknown argument "--bogus" (see --help)'],
    [['--epochs'], '--epochs needs a value'],
    [['--epochs', '0'], '--epochs needs a positive integer, got "0"'],
    [['--epochs', '2.5'], '--epochs needs a positive integer, got "2.5"'],
    [['--lr', 'fast'], '--lr needs a positive number, got "fast"'],
    [['--model', 'resnet'], '--model must be one of logreg, mlp, deepchrome, vae-mlp, vae-mlp-neighbors, vae-joint, vae-m2, tss-linear, expression-prior, logreg-neighbors, mark-means, attentivechrome; got "resnet"'],
    [['--train-size', '-5'], '--train-size needs a positive integer, got "-5"'],
    [['--neighbors', 'random'], '--neighbors must be one of spatial, functional; got "random"'],
    [['--seed', '99999999999'], '--seed needs an integer in [0, 4294967295], got "99999999999"'],
    [['--beta', '-1'], '--beta needs a number >= 0, got "-1"'],
    [['--sizes', '100,x'], '--sizes needs a positive integer, got "x"'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('reads values given with = as well', () => {
    const o = parseArgs(['--epochs=3', '--model=mlp', '--train-size=all', '--cpu']);
    expect(o.epochs).toBe(3);
    expect(o.model).toBe('mlp');
    expect(o.trainSize).toBeUndefined();
    expect(o.device).toBe('cpu');
  });
});

describe('run.ts end to end', () => {
  it('a bad flag exits 2 with one line and no stack trace', () => {
    const r = run(['--epochs', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('simplechrome: --epochs needs a positive integer, got "many"');
  });

  it('a data path that does not exist exits 2 and names it', () => {
    const r = run(['--cpu', '--data', '/nonexistent/E999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--data /nonexistent/E999: no such file or directory');
    expect(r.stderr).not.toContain('    at ');
  });

  it('data in no known layout exits 1 with what was looked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-empty-'));
    const r = run(['--cpu', '--data', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown layout.*looked for/s);
    expect(r.stderr).not.toContain('    at ');
  });

  it('says when the data repeats a gene with identical rows, and trains on it once', () => {
    const sample = fileURLToPath(new URL('../../shared/datasets/derived_deepchrome_format/E003_sample600', import.meta.url));
    const cell = join(mkdtempSync(join(tmpdir(), 'sc-repeat-')), 'E003', 'classification');
    mkdirSync(cell, { recursive: true });
    for (const split of ['train', 'valid', 'test']) {
      const text = gunzipSync(readFileSync(`${sample}.${split}.csv.gz`)).toString('utf8');
      const firstGene = text.split('\n').slice(0, 100).join('\n');
      writeFileSync(join(cell, `${split}.csv`), split === 'train' ? `${text.trimEnd()}\n${firstGene}\n` : text);
    }
    const out = mkdtempSync(join(tmpdir(), 'sc-run-'));
    const r = run(['--cpu', '--model', 'mlp', '--epochs', '1', '--quiet', '--data', join(cell, '..'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`data: E003: dropped 1 repeated gene(s) whose rows equal their first copy: 130749 (${join(cell, 'train.csv')}:20001)`);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { labeledTrainingGenes: number };
    expect(metrics.labeledTrainingGenes).toBe(200);
  });

  it('trains the MLP on the real E003 sample and writes metrics.json and predictions.csv', () => {
    const out = mkdtempSync(join(tmpdir(), 'sc-run-'));
    const r = run(['--cpu', '--model', 'mlp', '--epochs', '3', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('using the real Roadmap E003 sample');
    expect(r.stderr).toMatch(/mlp epoch {3}3\/3 {2}loss \d\.\d{4} {2}valid AUROC \d\.\d{4}/);
    expect(r.stdout).toMatch(/^model +cell +labeled genes +best epoch +valid AUROC +test AUROC/m);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
      model: string;
      cell: string;
      device: { kind: string };
      history: { epoch: number; valid: { auroc: number } }[];
      bestEpoch: number;
      test: { auroc: number; aupr: number; accuracy: number };
      normalization: { scheme: string };
      labeledTrainingGenes: number;
    };
    expect(metrics.model).toBe('mlp');
    expect(metrics.cell).toBe('E003');
    expect(metrics.device.kind).toBe('cpu');
    expect(metrics.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(metrics.labeledTrainingGenes).toBe(200);
    expect(metrics.normalization.scheme).toBe('log1p-max');
    expect(metrics.test.auroc).toBeGreaterThan(0.7);
    const rows = readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('gene_id,label,probability,split');
    expect(rows).toHaveLength(201);
    for (const row of rows.slice(1)) expect(row).toMatch(/^\d{6},[01],(0|1|0\.\d+|\d\.\d+e-\d+),test$/);
  });

  it('the small-data experiment skips sizes larger than the data and writes its tables', () => {
    const out = mkdtempSync(join(tmpdir(), 'sc-exp-'));
    const r = run(['--cpu', '--experiment', 'small-data', '--models', 'mlp', '--sizes', '100,1000,all', '--seeds', '2', '--epochs', '1', '--quiet', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('experiment: size 1000 skipped: E003 has only 200 training genes');
    const csv = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('cell,model,size,seed,labeled_genes,valid_auroc,valid_aupr,test_auroc,test_aupr,best_epoch,epochs,seconds');
    expect(csv).toHaveLength(1 + 2 * 2);
    const md = readFileSync(join(out, 'small-data.md'), 'utf8');
    expect(md).toMatch(/\| mlp \| 0\.\d{3} ± 0\.\d{3} \| 0\.\d{3} ± 0\.\d{3} \|/);
  });
});
