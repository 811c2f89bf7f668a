import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { checkFlagsApply } from '../src/cli/flags/flagScope.ts';
import type { Progress } from '../src/train/runModel.ts';
import { TrainingStoppedError, trainToDirectory } from '../src/cli/run/trainRun.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { runMain } from './cliHelpers.ts';

// vae-m2 from the command line: trained on the real E003 sample (from the
// pretrained VAE, two values of α), used by predict from its checkpoint,
// resumed exactly, and run in the small-data experiment beside logreg.

const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-m2-${tag}-`));

describe('vae-m2 on the E003 sample', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tmp('e003');
    // Every training gene labeled, so the unlabeled genes are only the 200 valid ones: the least work an epoch of
    // this cell's 100-bin windows can be on the CPU reference path. Small steps keep each synchronous slice short.
    await trainToDirectory(
      parseArgs(['--cpu', '--model', 'vae-m2', '--vae-epochs', '1', '--epochs', '1', '--alpha', '0.1,1', '--latent', '4', '--batch', '16', '--data', DEFAULT_REAL_SAMPLE, '--out', dir, '--quiet']),
      { progress: quiet },
    );
  }, 600_000);

  it('writes one checkpoint holding q(y|x), q(z|x,y) and p(x|z,y), beside the VAE it started from', async () => {
    expect(existsSync(join(dir, 'vae.safetensors'))).toBe(true);
    const best = await readClassifierCheckpoint(join(dir, 'best.safetensors'), 'best');
    expect(best.info.modelName).toBe('vae-m2');
    expect(best.spec).toEqual({ architecture: 'vae-m2', bins: 100, marks: 5, latent: 4, channels: [32, 64], kernelSize: 5, leak: 0.5, hidden: [128] });
    const names = [...(await readSafetensors(join(dir, 'best.safetensors'))).tensors.keys()];
    for (const n of ['enc.conv1.weight', 'enc.mu.weight', 'dec.fc.weight', 'dec.deconv3.bias', 'cls.fc1.weight', 'cls.out.bias']) expect(names).toContain(n);
    // The heads and the decoder read the one-hot label beside their usual input.
    expect(best.model.store.parameters.find((p) => p.name === 'enc.mu.weight')?.shape).toEqual([100 * 64 + 2, 4]);
    expect(best.model.store.parameters.find((p) => p.name === 'dec.fc.weight')?.shape).toEqual([4 + 2, 100 * 64]);
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { model: string; bestEpoch: number; test: { auroc: number }; weightSearch: { values: number[] }; vaeHistory: unknown[] };
    expect(metrics).toMatchObject({ model: 'vae-m2', bestEpoch: 1, weightSearch: { setting: 'alpha', values: [0.1, 1] } });
    expect(metrics.vaeHistory).toHaveLength(1);
    expect(metrics.test.auroc).toBeGreaterThan(0.5);
  });

  it('predict from its checkpoint gives the probabilities training wrote for the test genes', async () => {
    const out = join(tmp('predict'), 'p.csv');
    const r = await runMain(['predict', '--model', dir, '--data', DEFAULT_REAL_SAMPLE, '--cpu', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const predicted = new Map(readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => [l.split(',')[0], l.split(',')[2]]));
    const trained = readFileSync(join(dir, 'predictions.csv'), 'utf8').trim().split('\n').slice(1);
    expect(trained.length).toBe(200);
    for (const line of trained) {
      const [id, , p] = line.split(',');
      expect(predicted.get(id), id).toBe(p);
    }
  });
});

describe('vae-m2 resumed and in the experiment (synthetic cell, 20 bins)', () => {
  let data: string;
  let reference: string;
  const args = (out: string, ...extra: string[]) =>
    parseArgs(['--cpu', '--model', 'vae-m2', '--data', data, '--train-size', '20', '--vae-epochs', '1', '--epochs', '3', '--batch', '16', '--latent', '3', '--out', out, '--quiet', ...extra]);

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 100, seed: 5, bins: 20, cell: 'SYNTHETIC-M2' });
    data = join(root, 'SYNTHETIC-M2');
    reference = tmp('ref');
    await trainToDirectory(args(reference), { progress: quiet });
  }, 300_000);

  it('interrupted after epoch 1 and resumed, it ends bit-identical to the uninterrupted run', async () => {
    const out = tmp('int');
    const stop: Progress = {
      epoch: (_m, r) => {
        if (r.epoch === 1) throw new Error('stopped after epoch 1 for the test');
      },
      vaeEpoch: () => {},
    };
    await expect(trainToDirectory(args(out), { progress: stop })).rejects.toBeInstanceOf(TrainingStoppedError);
    expect((await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last')).state.epoch).toBe(1);
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(resumed.run.result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    for (const f of ['best.safetensors', 'last.safetensors']) {
      const [a, b] = [await readSafetensors(join(reference, f)), await readSafetensors(join(out, f))];
      for (const [name, t] of a.tensors) expect(Buffer.from((b.tensors.get(name)?.data ?? new Float32Array()).buffer).equals(Buffer.from(t.data.buffer)), `${f}: ${name}`).toBe(true);
    }
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8')).toBe(readFileSync(join(reference, 'predictions.csv'), 'utf8'));
  }, 300_000);

  it('--experiment small-data --models logreg,vae-m2 puts it in the tables and the paired statistics', async () => {
    const out = join(tmp('exp'), 'run');
    const r = await runMain(['--cpu', '--experiment', 'small-data', '--data', data, '--models', 'logreg,vae-m2', '--sizes', '20,all', '--seeds', '2', '--epochs', '1', '--vae-epochs', '1', '--batch', '16', '--latent', '3', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const csv = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n');
    expect(csv.slice(1).filter((l) => l.split(',')[1] === 'vae-m2')).toHaveLength(4);
    const paired = readFileSync(join(out, 'paired.csv'), 'utf8');
    expect(paired).toMatch(/\nSYNTHETIC-M2,20,vae-m2,logreg,2,/);
    expect(paired).toMatch(/\nSYNTHETIC-M2,all,vae-m2,logreg,2,/);
    expect(readFileSync(join(out, 'small-data.md'), 'utf8')).toMatch(/\n\| vae-m2 \| 0\.\d{3} ± 0\.\d{3} \|/);
    expect(r.stdout).toContain('vae-m2');
  }, 300_000);

  it('takes the VAE flags it uses and refuses --sigma, which it has no choice of, and --epochs where it pretrains nothing', () => {
    expect(() => checkFlagsApply(parseArgs(['--model', 'vae-m2', '--latent', '4', '--beta', '0.01', '--vae-epochs', '2', '--epochs', '3']))).not.toThrow();
    expect(() => checkFlagsApply(parseArgs(['--model', 'vae-m2', '--sigma', 'softplus']))).toThrow(
      "--sigma applies to the VAE of the vae-mlp, vae-mlp-neighbors and vae-joint models; vae-m2's encoder always has a log-variance head",
    );
    expect(() => checkFlagsApply(parseArgs(['--model', 'vae-m2', '--m2-init', 'random', '--epochs', '4']))).toThrow(
      '--epochs does not apply to --model vae-m2 --m2-init random: with no pretrained VAE, vae-m2 trains --vae-epochs epochs, each a pass over the unlabeled genes',
    );
    expect(() => checkFlagsApply(parseArgs(['--experiment', 'small-data', '--models', 'logreg,vae-m2', '--epochs', '4']))).not.toThrow();
    expect(() => checkFlagsApply(parseArgs(['--model', 'logreg', '--latent', '4']))).toThrow('--latent applies to the VAE of the vae-mlp, vae-mlp-neighbors, vae-joint and vae-m2 models; --model logreg has no VAE');
  });
});
