import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, parseArgs } from '../src/cli/flags/args.ts';
import { resumedExperimentOptions } from '../src/cli/experiment/experimentResume.ts';
import { restoreSettings, storeSettings } from '../src/cli/flags/storedSettings.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { latentMeans } from '../src/train/predictWith.ts';
import { readModelDirectory } from '../src/cli/use/useModel.ts';
import type { Progress } from '../src/train/runModel.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { readClassifierCheckpoint, readVaeCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { applyNormalization } from '../src/data/normalize.ts';
import { runMain } from './cliHelpers.ts';

// vae-joint end to end on the real E003 sample (../shared/datasets), with
// tiny epochs: train, predict and encode from its checkpoint, resume, and the
// small-data experiment with it beside logreg and vae-mlp.

if (!existsSync(`${DEFAULT_REAL_SAMPLE}.train.csv.gz`)) throw new Error(`real data not found at ${DEFAULT_REAL_SAMPLE}: these tests need ../shared/datasets (see its README.md)`);

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-joint-${tag}-`));
const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const ARGS = ['--cpu', '--model', 'vae-joint', '--data', DEFAULT_REAL_SAMPLE, '--train-size', '40', '--vae-epochs', '1', '--epochs', '2', '--latent', '3', '--batch', '16', '--joint-weight', '5'];

class Interrupt extends Error {}

// A VAE epoch over the sample's 400 train and valid genes of 100 bins takes seconds on an idle CPU and minutes
// on a shared one: these runs get room beyond the suite's two minutes.
const LONG = 900_000;

describe('vae-joint trained from the command line on the E003 sample', () => {
  let run: string;
  beforeAll(async () => {
    run = join(tmp('run'), 'out');
    const r = await runMain([...ARGS, '--out', run, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('simplechrome: vae-joint on E003 (600 genes × 100 bins × 5 marks), CPU');
  }, LONG);

  it('keeps encoder, decoder and head in best.safetensors, with the joint sizes and --joint-weight', async () => {
    const best = await readClassifierCheckpoint(join(run, 'best.safetensors'), 'best');
    expect(best.info.modelName).toBe('vae-joint');
    expect(best.spec).toEqual({
      architecture: 'vae-joint',
      vae: { architecture: 'vae', bins: 100, marks: 5, latent: 3, channels: [32, 64], kernelSize: 5, leak: 0.5 },
      hidden: [256, 128],
    });
    expect(best.info.settings.jointWeight).toEqual([5]);
    const names = [...(await readSafetensors(join(run, 'best.safetensors'))).tensors.keys()];
    for (const n of ['enc.conv1.weight', 'enc.mu.weight', 'enc.logvar.weight', 'dec.fc.weight', 'dec.deconv3.bias', 'fc1.weight', 'out.bias']) expect(names).toContain(n);
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { history: { elbo?: { loss: number } }[]; labeledTrainingGenes: number };
    expect(metrics.labeledTrainingGenes).toBe(40);
    expect(metrics.history).toHaveLength(2);
    for (const h of metrics.history) expect(h.elbo?.loss).toBeGreaterThan(0);
  });

  it('predict from the checkpoint gives the run’s own test probabilities', async () => {
    const out = join(tmp('pred'), 'p.csv');
    const r = await runMain(['predict', '--model', run, '--data', DEFAULT_REAL_SAMPLE, '--out', out, '--cpu', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const predicted = new Set(readFileSync(out, 'utf8').trim().split('\n'));
    expect(predicted.size).toBe(1 + 600);
    const own = readFileSync(join(run, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(own).toHaveLength(1 + 200);
    for (const line of own) expect(predicted.has(line), line).toBe(true);
  }, LONG);

  it('encode writes the latent means of the fine-tuned encoder, not of the VAE before fine-tuning', async () => {
    const out = join(tmp('enc'), 'z.csv');
    expect((await runMain(['encode', '--model', run, '--data', DEFAULT_REAL_SAMPLE, '--out', out, '--cpu', '--quiet'])).code).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('gene_id,label,z1,z2,z3');
    const encoded = rows.slice(1).flatMap((r) => r.split(',').slice(2).map(Number));
    const m = await readModelDirectory(run, 'vae');
    const loaded = await loadCell(DEFAULT_REAL_SAMPLE, { cache: false });
    const ds = applyNormalization(loaded.dataset, m.normalization);
    const fineTuned = await latentMeans(ds, m.vae as NonNullable<typeof m.vae>, m.settings, { kind: 'cpu' });
    const pretrained = await latentMeans(ds, await readVaeCheckpoint(join(run, 'vae.safetensors')), m.settings, { kind: 'cpu' });
    // The CSV keeps 7 significant digits.
    expect(encoded.every((v, i) => Math.abs(v - (fineTuned[i] as number)) <= 1e-6 * (1 + Math.abs(fineTuned[i] as number)))).toBe(true);
    expect(Math.max(...encoded.map((v, i) => Math.abs(v - (pretrained[i] as number))))).toBeGreaterThan(1e-4);
  }, LONG);

  it('interrupted after its first joint epoch and resumed, ends exactly as the uninterrupted run', async () => {
    const out = join(tmp('res'), 'out');
    const stop: Progress = {
      ...quiet,
      epoch: (_m, r) => {
        if (r.epoch === 1) throw new Interrupt('interrupted after epoch 1 for the test');
      },
    };
    await expect(trainToDirectory(parseArgs([...ARGS, '--out', out, '--quiet']), { progress: stop })).rejects.toThrow('interrupted after epoch 1');
    expect((await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last')).state.epoch).toBe(1);
    await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    for (const f of ['vae.safetensors', 'best.safetensors', 'last.safetensors']) {
      const [a, b] = [await readSafetensors(join(run, f)), await readSafetensors(join(out, f))];
      expect([...b.tensors.keys()], f).toEqual([...a.tensors.keys()]);
      for (const [name, t] of a.tensors) expect(Buffer.from((b.tensors.get(name) as typeof t).data.buffer).equals(Buffer.from(t.data.buffer)), `${f}: ${name}`).toBe(true);
    }
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8')).toBe(readFileSync(join(run, 'predictions.csv'), 'utf8'));
  }, LONG);
});

describe('vae-joint in the small-data experiment and its flags', () => {
  it('runs beside logreg and vae-mlp, one VAE per seed, and is in the tables and paired statistics', async () => {
    const out = join(tmp('exp'), 'out');
    const r = await runMain([
      '--cpu', '--experiment', 'small-data', '--data', DEFAULT_REAL_SAMPLE, '--models', 'logreg,vae-mlp,vae-joint', '--sizes', '40',
      '--seeds', '2', '--epochs', '1', '--vae-epochs', '1', '--latent', '3', '--batch', '16', '--quiet', '--out', out,
    ]);
    expect(r.code).toBe(0);
    const csv = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n');
    expect(csv.filter((l) => l.startsWith('E003,vae-joint,40,'))).toHaveLength(2);
    const md = readFileSync(join(out, 'small-data.md'), 'utf8');
    expect(md).toMatch(/\| vae-joint \|/);
    const paired = readFileSync(join(out, 'paired.csv'), 'utf8');
    expect(paired).toMatch(/E003,40,vae-joint,logreg,/);
    expect(r.stdout).toContain('vae-joint');
  }, LONG);

  it('reads settings stored before --joint-weight existed with its default, in a checkpoint and in an experiment', () => {
    const stored = { ...storeSettings(parseArgs(['--cpu', '--model', 'vae-mlp']), DEFAULT_REAL_SAMPLE) } as Record<string, unknown>;
    expect(stored.jointWeight).toEqual(DEFAULTS.jointWeight);
    // Before --joint-weight took a list it was stored as one number: it reads back as that one value.
    expect(restoreSettings({ ...stored, jointWeight: 5 }, 'number.safetensors').jointWeight).toEqual([5]);
    delete stored.jointWeight;
    expect(restoreSettings(stored, 'old.safetensors').jointWeight).toEqual(DEFAULTS.jointWeight);
    expect(() => restoreSettings({ ...stored, jointWeight: 'heavy' }, 'bad.safetensors')).toThrow('bad.safetensors: stored settings are invalid: --joint-weight needs numbers >= 0, separated by commas; got "heavy"');
    const dir = tmp('oldexp');
    const { model: _m, seed: _s, trainSize: _t, ...run } = stored;
    writeFileSync(join(dir, 'experiment.json'), JSON.stringify({ ...run, experiment: 'small-data', models: ['logreg', 'vae-mlp'], sizes: [100], seeds: 2, minSteps: 0, maxEpochs: 100 }));
    const o = resumedExperimentOptions(parseArgs(['--resume', dir]), dir);
    expect(o.jointWeight).toEqual(DEFAULTS.jointWeight);
    expect(o.models).toEqual(['logreg', 'vae-mlp']);
  });

  it('refuses --joint-weight where no model trains jointly, and a negative weight', async () => {
    const noJoint = await runMain(['--cpu', '--model', 'vae-mlp', '--joint-weight', '2']);
    expect(noJoint.code).toBe(2);
    expect(noJoint.stderr).toBe('simplechrome: --joint-weight weighs the ELBO in the loss of vae-joint; --model vae-mlp does not train a VAE with its classifier\n');
    const negative = await runMain(['--cpu', '--model', 'vae-joint', '--joint-weight', '-1']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toBe('simplechrome: --joint-weight needs numbers >= 0, separated by commas; got "-1"\n');
  });
});
