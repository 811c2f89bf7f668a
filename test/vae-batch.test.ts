import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseArgs } from '../src/cli/flags/args.ts';
import { resumedExperimentOptions } from '../src/cli/experiment/experimentResume.ts';
import { trainVaeLatents, vaeTrainingGenes } from '../src/train/runModel.ts';
import { restoreSettings, storeSettings } from '../src/cli/flags/storedSettings.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { splitIndices } from '../src/train/prepare.ts';
import { runMain } from './cliHelpers.ts';
import { quiet, settings } from './realSample.ts';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { applyNormalization, fitNormalization } from '../src/data/normalize.ts';

// --vae-batch sizes the VAE's minibatch apart from the classifiers' --batch,
// so the common protocol (classifiers at 32, the VAE at 64) runs as one
// experiment; settings stored before it existed read back as they ran, with
// the VAE at their --batch.

describe('--vae-batch', () => {
  it("parses, defaults to --batch's size and is refused where no model has a VAE", async () => {
    expect(DEFAULTS.vaeBatch).toBe(DEFAULTS.batch);
    expect(parseArgs(['--model', 'vae-mlp', '--batch', '32', '--vae-batch', '128'])).toMatchObject({ batch: 32, vaeBatch: 128 });
    // A command line written before --vae-batch still trains the VAE at its --batch.
    expect(parseArgs(['--model', 'vae-mlp', '--batch', '16'])).toMatchObject({ batch: 16, vaeBatch: 16 });
    expect(() => parseArgs(['--vae-batch', '0'])).toThrow('--vae-batch needs a positive integer, got "0"');
    const r = await runMain(['--cpu', '--model', 'deepchrome', '--vae-batch', '32']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('simplechrome: --vae-batch applies to the VAE of the vae-mlp, vae-mlp-neighbors, vae-joint and vae-m2 models; --model deepchrome has no VAE\n');
  });

  it('reads a checkpoint and an experiment stored before it existed with the VAE at their --batch', () => {
    const stored = { ...storeSettings(parseArgs(['--cpu', '--model', 'vae-mlp', '--batch', '32', '--vae-batch', '64']), DEFAULT_REAL_SAMPLE) } as Record<string, unknown>;
    expect(stored.vaeBatch).toBe(64);
    expect(restoreSettings(stored, 'new.safetensors')).toMatchObject({ batch: 32, vaeBatch: 64 });
    delete stored.vaeBatch;
    expect(restoreSettings(stored, 'old.safetensors')).toMatchObject({ batch: 32, vaeBatch: 32 });
    expect(() => restoreSettings({ ...stored, vaeBatch: 'big' }, 'bad.safetensors')).toThrow('bad.safetensors: stored settings are invalid: --vae-batch needs a positive integer, got "big"');
    const dir = mkdtempSync(join(tmpdir(), 'sc-vaebatch-'));
    const { model: _m, seed: _s, trainSize: _t, ...run } = stored;
    writeFileSync(join(dir, 'experiment.json'), JSON.stringify({ ...run, experiment: 'small-data', models: ['logreg', 'vae-mlp'], sizes: [100], seeds: 2, minSteps: 0, maxEpochs: 100 }));
    expect(resumedExperimentOptions(parseArgs(['--resume', dir]), dir)).toMatchObject({ batch: 32, vaeBatch: 32 });
    writeFileSync(join(dir, 'experiment.json'), JSON.stringify({ ...run, vaeBatch: 16, experiment: 'small-data', models: ['vae-mlp'], sizes: [100], seeds: 1, minSteps: 0, maxEpochs: 100 }));
    expect(resumedExperimentOptions(parseArgs(['--resume', dir]), dir)).toMatchObject({ batch: 32, vaeBatch: 16 });
  });

  it('trains the VAE at --vae-batch whatever the classifiers take', async () => {
    // A tiny synthetic cell: the CPU path trains three VAEs here.
    const root = mkdtempSync(join(tmpdir(), 'sc-vaebatch-data-'));
    await writeSynthetic(root, { genes: 20, seed: 3, bins: 6, cell: 'SYNTHETIC-VB' });
    const loaded = await loadCell(join(root, 'SYNTHETIC-VB'), { cache: false });
    const ds = applyNormalization(loaded.dataset, fitNormalization(loaded.dataset, 'log1p-max'));
    const genes = vaeTrainingGenes(splitIndices(ds));
    const vae = (batch: number, vaeBatch: number) =>
      trainVaeLatents(ds, genes, { ...settings, model: 'vae-mlp', latent: 3, vaeEpochs: 2, batch, vaeBatch }, { kind: 'cpu' }, quiet);
    const a = await vae(8, 16);
    const b = await vae(16, 16);
    const c = await vae(16, 8);
    // The classifier batch does not reach the VAE; the VAE's does (another number of steps, other updates).
    expect(a.latents).toEqual(b.latents);
    expect(a.history.map((r) => r.loss)).toEqual(b.history.map((r) => r.loss));
    expect(c.latents).not.toEqual(b.latents);
  }, 120_000);
});
