import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { COSTLY_IN_EXPERIMENT } from '../src/models/registry.ts';
import { checkFlagsApply } from '../src/cli/flags/flagScope.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// Every flag that the chosen command would ignore is an error that names the
// flag and what it belongs to; so are a flag given twice and --cpu --gpu. A
// value that would be clamped is refused, or clamped with a note and recorded.

const check = (...argv: string[]) => () => checkFlagsApply(parseArgs(argv));

describe('flags that do not apply are errors', () => {
  it.each([
    [['--models', 'mlp'], '--models belongs to --experiment small-data; a single training run does not use it (it takes --model, --train-size and --seed)'],
    [['--sizes', '100'], '--sizes belongs to --experiment small-data'],
    [['--seeds', '5'], '--seeds belongs to --experiment small-data'],
    [['--experiment', 'small-data', '--model', 'mlp'], '--model does not apply to --experiment small-data: it trains every model of --models'],
    [['--experiment', 'small-data', '--train-size', '100'], '--train-size does not apply to --experiment small-data: it trains every size of --sizes'],
    [['--experiment', 'small-data', '--seed', '3'], '--seed does not apply to --experiment small-data: it runs seeds 1..N of --seeds'],
    [['--model', 'mlp', '--latent', '4'], '--latent applies to the VAE of the vae-mlp, vae-mlp-neighbors, vae-joint and vae-m2 models; --model mlp has no VAE'],
    [['--vae-epochs', '4'], '--vae-epochs applies to the VAE of the vae-mlp, vae-mlp-neighbors, vae-joint and vae-m2 models; --model deepchrome has no VAE'],
    [['--model', 'vae-mlp', '--k', '3'], '--k applies to the vae-mlp-neighbors and logreg-neighbors models only; --model vae-mlp uses no neighbours'],
    [['--experiment', 'small-data', '--models', 'mlp,deepchrome', '--beta', '0.1'], '--beta applies to the VAE of the vae-mlp, vae-mlp-neighbors, vae-joint and vae-m2 models; --experiment small-data has no VAE'],
    [['--self-check', '--cpu'], '--gpu/--cpu does not apply to --self-check'],
    [['--resume', 'runs/x', '--overwrite'], '--overwrite replaces the run in --out; --resume runs/x continues one: give one of them'],
    [['--model', 'vae-m2', '--target', 'expression'], '--target expression does not apply to vae-m2: its label is a latent class of two values; logreg, mlp, deepchrome, vae-mlp, vae-mlp-neighbors, vae-joint, tss-linear, expression-prior, logreg-neighbors, mark-means and attentivechrome predict expression'],
    [['--experiment', 'small-data', '--models', 'logreg,vae-m2', '--target', 'expression'], '--target expression does not apply to vae-m2'],
  ])('%j → %s', (argv, message) => {
    expect(check(...argv)).toThrow(message);
  });

  it('an experiment runs every model but the costly ones without being told, and on expression only those that can learn it', async () => {
    const cheap = ['logreg', 'mlp', 'deepchrome', 'vae-mlp', 'vae-mlp-neighbors', 'tss-linear', 'expression-prior', 'logreg-neighbors', 'mark-means'];
    expect(parseArgs(['--experiment', 'small-data']).models).toEqual(cheap);
    expect(parseArgs(['--experiment', 'small-data', '--target', 'expression']).models).toEqual(cheap);
    // The costly ones run when named, and --help says why each waits to be.
    expect(parseArgs(['--experiment', 'small-data', '--models', 'vae-m2,vae-joint,attentivechrome']).models).toEqual(['vae-m2', 'vae-joint', 'attentivechrome']);
    expect(COSTLY_IN_EXPERIMENT.map((m) => m.name)).toEqual(['vae-joint', 'vae-m2', 'attentivechrome']);
    const help = await runMain(['experiment', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(`--models A,B,... default ${cheap.join(',')} vae-joint runs only when named: it trains the VAE's conv encoder`);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('attentivechrome runs only when named: its LSTMs step through the bins one after another');
  });

  it.each([
    [['--cpu', '--gpu'], '--cpu and --gpu contradict each other: give one'],
    [['--epochs', '3', '--epochs', '5'], '--epochs is given twice'],
    [['--overwrite', '--overwrite'], '--overwrite is given twice'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('the flags that apply pass', () => {
    expect(check('--model', 'vae-mlp-neighbors', '--latent', '4', '--k', '1', '--neighbors', 'functional')).not.toThrow();
    expect(check('--experiment', 'small-data', '--models', 'mlp,vae-mlp', '--latent', '4', '--seeds', '2', '--sizes', '100,all')).not.toThrow();
    expect(check('--resume', 'runs/x', '--epochs', '9', '--cpu')).not.toThrow();
  });

  it('run.ts exits 2 with the message, before reading any data or writing anything', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sc-scope-'));
    const r = await runMain(['--cpu', '--seeds', '3', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('simplechrome: --seeds belongs to --experiment small-data; a single training run does not use it (it takes --model, --train-size and --seed)\n');
    expect(snapshot(out)).toEqual({});
  });

  it('a --batch larger than the labeled genes is used as all of them, said on stderr and recorded in metrics.json', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-scope-data-'));
    await writeSynthetic(root, { genes: 20, seed: 3, bins: 4, cell: 'SYNTHETIC-B' });
    const out = join(root, 'run');
    const r = await runMain(['--cpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-B'), '--epochs', '1', '--train-size', '12', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('note: --batch 64 is more than the 12 labeled training genes; each step uses all 12');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { config: { batch: number; trainSize: number }; batchUsed: number; labeledTrainingGenes: number };
    expect(metrics.config.batch).toBe(64);
    expect(metrics.batchUsed).toBe(12);
    expect(metrics.config.trainSize).toBe(12);
    expect(metrics.labeledTrainingGenes).toBe(12);
    // Only the settings mlp reads: no VAE's, neighbours' or semi-supervised weights, no neighbour sources.
    for (const key of ['vaeEpochs', 'vaeBatch', 'latent', 'beta', 'sigma', 'neighbors', 'k', 'jointWeight', 'alpha', 'm2Init', 'annotation', 'expressionTable']) {
      expect(metrics.config, key).not.toHaveProperty(key);
    }
  });
});
