import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { DEFAULTS, parseArgs } from '../src/cli/flags/args.ts';
import { resumedExperimentOptions } from '../src/cli/experiment/experimentResume.ts';
import { checkFlagsApply } from '../src/cli/flags/flagScope.ts';
import { type Progress, type WeightSearch, firstBest } from '../src/train/runModel.ts';
import { restoreSettings, storeSettings } from '../src/cli/flags/storedSettings.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { runMain } from './cliHelpers.ts';

// vae-m2's α and vae-joint's λ given as lists: one model per value, the best
// by validation AUROC kept (ties: the first), every value's score recorded,
// and the kept model the one in best.safetensors; λ = 0 trains; the flags'
// refusals; and settings stored before these flags read back as they ran.

const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-search-${tag}-`));

type Metrics = { weightSearch: WeightSearch; valid: { auroc: number }; config: Record<string, unknown>; vaeHistory?: unknown[]; history: { valid: { auroc: number } }[] };
const metricsOf = (dir: string): Metrics => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Metrics;

describe('choosing a loss weight by validation AUROC (synthetic cell, 20 bins)', () => {
  let data: string;
  const common = (model: string, out: string, ...extra: string[]) =>
    parseArgs(['--cpu', '--model', model, '--data', data, '--train-size', '20', '--vae-epochs', '1', '--epochs', '2', '--batch', '16', '--latent', '3', '--out', out, '--quiet', ...extra]);

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 100, seed: 5, bins: 20, cell: 'SYNTHETIC-SEARCH' });
    data = join(root, 'SYNTHETIC-SEARCH');
  });

  it.each([
    ['vae-joint', '--joint-weight', '0,1,10', 'jointWeight'],
    ['vae-m2', '--alpha', '0.02,1', 'alpha'],
  ] as const)('%s %s %s trains each value, keeps the best, and best.safetensors is that model', async (model, flag, list, setting) => {
    const out = tmp(model);
    const run = await trainToDirectory(common(model, out, flag, list), { progress: quiet });
    const values = list.split(',').map(Number);
    const w = metricsOf(out).weightSearch;
    expect(w.setting).toBe(setting);
    expect(w.values).toEqual(values);
    expect(w.validAuroc).toHaveLength(values.length);
    for (const a of w.validAuroc) expect(a).toBeGreaterThan(0);
    expect(w.chosen).toBe(values[firstBest(w.validAuroc)]);
    expect(run.run.result.valid).toMatchObject({ auroc: Math.max(...w.validAuroc) });
    // Each value trained as a run of its own would: the kept value alone gives the same model.
    const alone = tmp(`${model}-alone`);
    const single = await trainToDirectory(common(model, alone, flag, String(w.chosen)), { progress: quiet });
    expect(single.run.result.valid).toEqual(run.run.result.valid);
    expect(single.run.result.test).toEqual(run.run.result.test);
    expect(metricsOf(alone).weightSearch).toEqual({ setting, values: [w.chosen], validAuroc: [Math.max(...w.validAuroc)], chosen: w.chosen });
    // The checkpoint is the kept model's, so predict gives the probabilities the run wrote.
    const best = await readClassifierCheckpoint(join(out, 'best.safetensors'), 'best');
    expect(best.state.bestAuroc).toBe(Math.max(...w.validAuroc));
    const predicted = join(tmp('predict'), 'p.csv');
    const r = await runMain(['predict', '--model', out, '--data', data, '--cpu', '--out', predicted, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const probabilities = (file: string) => new Map(readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => [l.split(',')[0], l.split(',')[2]]));
    const trained = probabilities(join(out, 'predictions.csv'));
    const got = probabilities(predicted);
    for (const [id, p] of trained) expect(got.get(id), id).toBe(p);
  }, 600_000);

  it('vae-joint at λ = 0 trains its encoder and head on the BCE alone: finite losses, the ELBO still reported', async () => {
    const out = tmp('lambda0');
    const run = await trainToDirectory(common('vae-joint', out, '--joint-weight', '0'), { progress: quiet });
    const h = run.run.result.history;
    expect(h).toHaveLength(2);
    for (const e of h) {
      expect(Number.isFinite(e.trainLoss) && e.trainLoss > 0).toBe(true);
      expect(e.elbo?.loss).toBeGreaterThan(0);
    }
    expect(run.run.result.valid).toMatchObject({ auroc: expect.any(Number) });
    expect(metricsOf(out).weightSearch).toMatchObject({ values: [0], chosen: 0 });
  }, 600_000);

  it('vae-m2 first trains the VAE (--vae-epochs) and then --epochs of its own; --m2-init random trains --vae-epochs M2 epochs', async () => {
    const pretrained = tmp('m2-pre');
    await trainToDirectory(common('vae-m2', pretrained), { progress: quiet });
    const p = metricsOf(pretrained);
    expect(p.vaeHistory).toHaveLength(1);
    expect(p.history).toHaveLength(2);
    expect(existsSync(join(pretrained, 'vae.safetensors'))).toBe(true);
    const random = tmp('m2-random');
    await trainToDirectory(parseArgs(['--cpu', '--model', 'vae-m2', '--m2-init', 'random', '--data', data, '--train-size', '20', '--vae-epochs', '3', '--batch', '16', '--latent', '3', '--out', random, '--quiet']), {
      progress: quiet,
    });
    const r = metricsOf(random);
    expect(r.vaeHistory).toBeUndefined();
    expect(r.history).toHaveLength(3);
    expect(existsSync(join(random, 'vae.safetensors'))).toBe(false);
  }, 600_000);

  it('the experiment runs vae-joint and vae-m2 with lists of λ and α and keeps every choice in weight-choices.csv', async () => {
    const out = join(tmp('exp'), 'run');
    const r = await runMain([
      '--cpu', '--experiment', 'small-data', '--data', data, '--models', 'vae-joint,vae-m2', '--sizes', '20', '--seeds', '1', '--epochs', '1',
      '--vae-epochs', '1', '--batch', '16', '--latent', '3', '--alpha', '0.05,0.5', '--joint-weight', '0,1,10', '--quiet', '--out', out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/vae-joint, 20, seed 1: kept λ = (0|1|10) \(validation 0: 0\.\d{4}, 1: 0\.\d{4}, 10: 0\.\d{4}\)/);
    expect(r.stderr).toMatch(/vae-m2, 20, seed 1: kept α = (0\.05|0\.5) \(validation 0\.05: 0\.\d{4}, 0\.5: 0\.\d{4}\)/);
    const choices = readFileSync(join(out, 'weight-choices.csv'), 'utf8').trim().split('\n');
    expect(choices[0]).toBe('cell,model,size,seed,setting,value,valid_auroc,chosen');
    const rows = choices.slice(1).map((l) => l.split(','));
    expect(rows.map((c) => `${c[1]} ${c[4]} ${c[5]}`)).toEqual(['vae-joint jointWeight 0', 'vae-joint jointWeight 1', 'vae-joint jointWeight 10', 'vae-m2 alpha 0.05', 'vae-m2 alpha 0.5']);
    // One kept per run, and it is the highest validation AUROC of that run's values (ties: the first).
    for (const model of ['vae-joint', 'vae-m2']) {
      const mine = rows.filter((c) => c[1] === model);
      expect(mine.map((c) => c[7]).filter((c) => c === '1')).toHaveLength(1);
      expect(mine.findIndex((c) => c[7] === '1')).toBe(firstBest(mine.map((c) => Number(c[6]))));
    }
    // small-data.csv keeps its header, so experiments written before still resume.
    expect(readFileSync(join(out, 'small-data.csv'), 'utf8').split('\n')[0]).toBe('cell,model,size,seed,labeled_genes,valid_auroc,valid_aupr,test_auroc,test_aupr,best_epoch,epochs,seconds');
    const settings = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')) as Record<string, unknown>;
    expect(settings).toMatchObject({ alpha: [0.05, 0.5], jointWeight: [0, 1, 10], m2Init: 'pretrained' });
    const resumed = resumedExperimentOptions(parseArgs(['--resume', out]), out);
    expect(resumed).toMatchObject({ alpha: [0.05, 0.5], jointWeight: [0, 1, 10], m2Init: 'pretrained' });
  }, 900_000);
});

describe('the first best value', () => {
  it('is the highest score, the first of equal ones', () => {
    expect(firstBest([0.7, 0.8, 0.8])).toBe(1);
    expect(firstBest([0.9, 0.8, 0.9])).toBe(0);
    expect(firstBest([0.5])).toBe(0);
  });
});

describe('--alpha, --m2-init and --joint-weight on the command line', () => {
  it('parse lists of numbers >= 0', () => {
    expect(parseArgs(['--model', 'vae-m2', '--alpha', '0.05,0.1,1'])).toMatchObject({ alpha: [0.05, 0.1, 1], m2Init: 'pretrained' });
    expect(parseArgs(['--model', 'vae-joint', '--joint-weight', '0,1,10']).jointWeight).toEqual([0, 1, 10]);
    expect(DEFAULTS).toMatchObject({ alpha: [0.1], jointWeight: [10], m2Init: 'pretrained' });
  });

  it('refuse an empty, negative or repeated value, each with its message', () => {
    expect(() => parseArgs(['--alpha', ''])).toThrow('--alpha needs numbers >= 0, separated by commas; got ""');
    expect(() => parseArgs(['--alpha', '0.1,-1'])).toThrow('--alpha needs numbers >= 0, separated by commas; got "0.1,-1"');
    expect(() => parseArgs(['--alpha', '0.1,,1'])).toThrow('--alpha needs numbers >= 0, separated by commas; got "0.1,,1"');
    expect(() => parseArgs(['--joint-weight', '-1'])).toThrow('--joint-weight needs numbers >= 0, separated by commas; got "-1"');
    expect(() => parseArgs(['--joint-weight', '1,1'])).toThrow('--joint-weight 1,1 names a value twice');
    expect(() => parseArgs(['--m2-init', 'vae'])).toThrow('--m2-init must be one of pretrained, random; got "vae"');
  });

  it('refuse --alpha and --m2-init where no model is vae-m2, and --epochs where vae-m2 starts from random weights', () => {
    expect(() => checkFlagsApply(parseArgs(['--model', 'mlp', '--alpha', '0.1']))).toThrow('--alpha applies to vae-m2 only; --model mlp does not train it');
    expect(() => checkFlagsApply(parseArgs(['--model', 'vae-joint', '--m2-init', 'random']))).toThrow('--m2-init applies to vae-m2 only; --model vae-joint does not train it');
    expect(() => checkFlagsApply(parseArgs(['--experiment', 'small-data', '--models', 'logreg,vae-joint', '--alpha', '0.1,1']))).toThrow(
      '--alpha applies to vae-m2 only; --experiment small-data does not train it',
    );
    expect(() => checkFlagsApply(parseArgs(['--experiment', 'small-data', '--models', 'vae-joint,vae-m2', '--alpha', '0.1,1', '--joint-weight', '0,1,10']))).not.toThrow();
    expect(() => checkFlagsApply(parseArgs(['--model', 'vae-m2', '--epochs', '4', '--vae-epochs', '2']))).not.toThrow();
    expect(() => checkFlagsApply(parseArgs(['--model', 'vae-m2', '--m2-init', 'random', '--epochs', '4']))).toThrow(
      '--epochs does not apply to --model vae-m2 --m2-init random: with no pretrained VAE, vae-m2 trains --vae-epochs epochs, each a pass over the unlabeled genes',
    );
  });
});

describe('settings stored before these flags', () => {
  const stored = (): Record<string, unknown> => ({ ...storeSettings(parseArgs(['--cpu', '--model', 'vae-m2', '--vae-epochs', '3']), '/data/cell') });

  it('a vae-m2 run stored before --m2-init and --alpha reads back as it ran: random weights, α = 0.1·N', () => {
    const now = stored();
    expect(now).toMatchObject({ alpha: [0.1], m2Init: 'pretrained', jointWeight: [10] });
    expect(restoreSettings(now, 'new.safetensors')).toMatchObject({ alpha: [0.1], m2Init: 'pretrained', vaeEpochs: 3 });
    const old: Record<string, unknown> = { ...now, jointWeight: 10 };
    delete old.alpha;
    delete old.m2Init;
    expect(restoreSettings(old, 'old.safetensors')).toMatchObject({ alpha: [0.1], m2Init: 'random', vaeEpochs: 3, jointWeight: [10] });
    expect(() => restoreSettings({ ...old, alpha: [-1] }, 'bad.safetensors')).toThrow('bad.safetensors: stored settings are invalid: --alpha needs numbers >= 0, separated by commas; got "-1"');
  });

  it('an experiment stored before them resumes with vae-m2 from random weights', () => {
    const run: Record<string, unknown> = { ...stored(), jointWeight: 10 };
    for (const key of ['alpha', 'm2Init', 'model', 'seed', 'trainSize']) delete run[key];
    const dir = tmp('oldexp');
    writeFileSync(join(dir, 'experiment.json'), JSON.stringify({ ...run, experiment: 'small-data', models: ['logreg', 'vae-m2'], sizes: [100], seeds: 2, minSteps: 0, maxEpochs: 100, data: dir }));
    const o = resumedExperimentOptions(parseArgs(['--resume', dir]), dir);
    expect(o).toMatchObject({ m2Init: 'random', alpha: [0.1], jointWeight: [10], vaeEpochs: 3, models: ['logreg', 'vae-m2'] });
  });
});
