import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { main } from '../src/cli/main.ts';
import type { Progress } from '../src/train/runModel.ts';
import { TrainingStoppedError, trainToDirectory } from '../src/cli/run/trainRun.ts';
import { mlpSpec, buildClassifier } from '../src/models/modelSpec.ts';
import { RunCheckpoints, readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { fitNormalization } from '../src/data/normalize.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { PARAMS } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { buildClassifierPlan } from '../src/train/classifierPlan.ts';
import {
  TrainingDivergedError,
  firstNonFiniteStep,
  initialise,
  stepsPerEpoch,
  trainClassifier,
} from '../src/train/trainClassifier.ts';
import { randomArray } from './helpers.ts';

// A run whose loss turns NaN or infinite stops with the epoch and the step
// named, found from the per-step loss buffer read once after the epoch, and
// keeps the checkpoint of the last good epoch.

const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-diverge-${tag}-`));

describe('a diverging run', () => {
  let data: string;
  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 24, seed: 41, bins: 6, cell: 'SYNTHETIC-N' });
    data = join(root, 'SYNTHETIC-N');
  });

  it('run.ts with a huge learning rate exits 1 naming epoch and step, with no stack trace', async () => {
    const out = tmp('cli');
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await main(['--cpu', '--model', 'mlp', '--data', data, '--epochs', '3', '--batch', '8', '--lr', '1e30', '--out', out, '--quiet']);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(1);
    const stderr = lines.join('');
    expect(stderr).toContain(
      'simplechrome: training diverged: the loss is NaN at epoch 1, step 2 of 3 (step 2 of the run)\n' +
        'no checkpoint was written: the run stopped before its first epoch finished',
    );
    expect(stderr).not.toContain('    at ');
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
  });

  it('a diverging VAE is named as such', async () => {
    const run = trainToDirectory(
      parseArgs(['--cpu', '--model', 'vae-mlp', '--data', data, '--vae-epochs', '2', '--latent', '2', '--batch', '16', '--lr', '1e30', '--out', tmp('vae'), '--quiet']),
      { progress: quiet },
    );
    await expect(run).rejects.toBeInstanceOf(TrainingStoppedError);
    await expect(run).rejects.toThrow(/^VAE training diverged: the loss is (NaN|Infinity) at epoch 1, step \d of 3 \(step \d of the run\)\n/);
  });

  it('diverging in epoch 3 keeps the checkpoint of epoch 2 and names step 1 of epoch 3', async () => {
    const loaded = await loadCell(data, { cache: false });
    const ds = loaded.dataset;
    const model = buildClassifier(mlpSpec([ds.bins, ds.marks.length]));
    const train = Uint32Array.from({ length: 20 }, (_, i) => i);
    const valid = Uint32Array.from({ length: 20 }, (_, i) => 20 + i);
    const labels = Uint8Array.from({ length: ds.genes }, (_, g) => g % 2);
    const split = { train, valid, test: valid };
    const features = randomArray(ds.genes * ds.bins * ds.marks.length, 3);
    const cp = buildClassifierPlan(model, {
      genes: ds.genes,
      batch: 8,
      predictBatch: 16,
      trainOrderLength: stepsPerEpoch(train.length, 8) * 8,
      optimizer: { lr: 1e-3 },
      seed: 1,
    });
    const exec = new CpuExecutor(cp.plan);
    initialise(exec, cp, { features, labels, split }, model.store.initialValues(2));
    const out = tmp('loop');
    const checkpoints = new RunCheckpoints(out, {
      runId: 'test',
      modelName: 'mlp',
      settings: {},
      normalization: fitNormalization(ds, 'log1p-max'),
      data: { cell: ds.cell, path: data, layout: 'deepchrome', genes: ds.genes, bins: ds.bins, marks: [...ds.marks], fingerprint: 'x' },
    });
    const error = await trainClassifier(exec, cp, { features, labels, split }, {
      epochs: 4,
      seed: 1,
      afterEpoch: async (state, improved) => {
        await checkpoints.saveClassifier(exec, cp, mlpSpec([ds.bins, ds.marks.length]), state, improved);
        // A parameter turned infinite after the epoch-2 checkpoint: the next step's loss is not finite.
        if (state.epoch === 2) {
          const p = exec.read(PARAMS);
          p[0] = Number.POSITIVE_INFINITY;
          exec.write(PARAMS, p);
        }
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const d = error as TrainingDivergedError;
    expect([d.epoch, d.step, d.stepsPerEpoch, d.globalStep]).toEqual([3, 1, 3, 7]);
    expect(d.message).toMatch(/^training diverged: the loss is (NaN|Infinity) at epoch 3, step 1 of 3 \(step 7 of the run\)$/);
    const kept = await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last');
    expect(kept.state.epoch).toBe(2);
    expect(Number.isFinite(kept.params[0] as number)).toBe(true);
  });

  it('data that moved since training is asked for by --data, and found there by its fingerprint', async () => {
    const root = tmp('moved');
    await writeSynthetic(root, { genes: 12, seed: 42, bins: 4, cell: 'SYNTHETIC-M' });
    const out = join(root, 'run');
    const args = ['--cpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-M'), '--epochs', '1', '--batch', '8', '--out', out, '--quiet'];
    await trainToDirectory(parseArgs(args), { progress: quiet });
    renameSync(join(root, 'SYNTHETIC-M'), join(root, 'SYNTHETIC-M2'));
    await expect(trainToDirectory(parseArgs(['--resume', out, '--epochs', '2']), { progress: quiet })).rejects.toThrow(
      `--resume ${out}: the data this run trained on is no longer at ${join(root, 'SYNTHETIC-M')}; give its new location with --data`,
    );
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--epochs', '2', '--data', join(root, 'SYNTHETIC-M2')]), { progress: quiet });
    expect(resumed.run.result.history.map((h) => h.epoch)).toEqual([1, 2]);
  });

  it('data edited to other values of the same size, its mtime restored, is not the data the run trained on', async () => {
    const root = tmp('edited');
    await writeSynthetic(root, { genes: 12, seed: 43, bins: 4, cell: 'SYNTHETIC-E' });
    const cell = join(root, 'SYNTHETIC-E');
    const out = join(root, 'run');
    const first = await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', cell, '--epochs', '1', '--batch', '8', '--out', out, '--quiet']), { progress: quiet });
    const train = join(cell, 'classification', 'train.csv');
    const text = readFileSync(train, 'utf8');
    const stamp = join(root, 'stamp');
    writeFileSync(stamp, '');
    expect(spawnSync('touch', ['-r', train, stamp]).status).toBe(0);
    // One count's last digit changed: the same size, other data.
    writeFileSync(train, text.replace(/^([^,]+,[^,]+,\d*)(\d)/, (_m, head: string, d: string) => `${head}${d === '9' ? '8' : String(Number(d) + 1)}`));
    expect(spawnSync('touch', ['-r', stamp, train]).status).toBe(0);
    expect(statSync(train).size).toBe(Buffer.byteLength(text));
    await expect(trainToDirectory(parseArgs(['--resume', out, '--epochs', '2']), { progress: quiet })).rejects.toThrow(
      new RegExp(`^--resume ${out}: the data at ${cell} is not the data this run trained on \\(SYNTHETIC-E, 36 genes from .*; fingerprints differ\\)$`),
    );
    const fresh = await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', cell, '--epochs', '1', '--batch', '8', '--out', join(root, 'run2'), '--quiet']), { progress: quiet });
    expect(fresh.data.fingerprint).not.toBe(first.data.fingerprint);
  });

  it('the first non-finite running sum names the step and that step’s own loss', () => {
    expect(firstNonFiniteStep([0.5, 1.25, Number.NaN, Number.NaN], 4)).toEqual({ step: 3, loss: Number.NaN });
    expect(firstNonFiniteStep([0.5, Number.POSITIVE_INFINITY, Number.NaN], 3)).toEqual({ step: 2, loss: Number.POSITIVE_INFINITY });
  });
});
