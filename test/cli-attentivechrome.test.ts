import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { TrainingStoppedError, trainToDirectory } from '../src/cli/run/trainRun.ts';
import type { Progress } from '../src/train/runModel.ts';
import { runMain } from './cliHelpers.ts';

// attentivechrome from the command line on the CPU, on a small synthetic
// cell (its CPU twin steps through every bin of every mark, so the real
// 100-bin sample would take minutes here): it trains, writes metrics and
// predictions, predict reproduces them from the checkpoint, and a run
// stopped after its first epoch resumes to the same end as one that was not.

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-attentivechrome-${tag}-`));
const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };

describe('attentivechrome on the command line (CPU)', () => {
  let data: string;
  let reference: string;
  const trainArgs = (out: string) => ['--cpu', '--model', 'attentivechrome', '--data', data, '--epochs', '2', '--batch', '10', '--seed', '3', '--quiet', '--out', out];

  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 40, seed: 5, bins: 6, cell: 'SYNTHETIC-A' });
    data = join(root, 'SYNTHETIC-A');
    reference = join(tmp('ref'), 'run');
    const r = await runMain(['train', ...trainArgs(reference)]);
    expect(r.code, r.stderr).toBe(0);
  }, 300_000);

  it('trains and writes metrics.json and predictions.csv', () => {
    const m = JSON.parse(readFileSync(join(reference, 'metrics.json'), 'utf8')) as {
      model: string;
      history: { epoch: number; trainLoss: number }[];
      test: { auroc: number };
    };
    expect(m.model).toBe('attentivechrome');
    expect(m.history.map((h) => h.epoch)).toEqual([1, 2]);
    for (const h of m.history) expect(Number.isFinite(h.trainLoss)).toBe(true);
    expect(Number.isFinite(m.test.auroc)).toBe(true);
    expect(readFileSync(join(reference, 'predictions.csv'), 'utf8').trim().split('\n').length).toBeGreaterThan(1);
    expect(existsSync(join(reference, 'best.safetensors'))).toBe(true);
  });

  it('predict reproduces the run’s predictions from its checkpoint', async () => {
    const out = join(tmp('pred'), 'all.csv');
    const p = await runMain(['predict', '--model', reference, '--data', data, '--out', out, '--cpu', '--quiet']);
    expect(p.code, p.stderr).toBe(0);
    const body = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1);
    const predicted = new Set(body(out));
    const trained = body(join(reference, 'predictions.csv'));
    expect(trained.length).toBeGreaterThan(0);
    for (const line of trained) expect(predicted.has(line), line).toBe(true);
  }, 120_000);

  it('a run stopped after epoch 1 resumes to the same predictions and losses', async () => {
    const out = join(tmp('resume'), 'run');
    const stopAfterFirst: Progress = {
      ...quiet,
      epoch: (_m, r) => {
        if (r.epoch === 1) throw new Error('stopped after epoch 1 for the test');
      },
    };
    const stopped = await trainToDirectory(parseArgs(trainArgs(out)), { progress: stopAfterFirst }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(TrainingStoppedError);
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
    await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8')).toBe(readFileSync(join(reference, 'predictions.csv'), 'utf8'));
    const losses = (dir: string) => (JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { history: { trainLoss: number }[] }).history.map((h) => h.trainLoss);
    expect(losses(out)).toEqual(losses(reference));
  }, 300_000);
});
