import { describe, expect, it } from 'vitest';
import { classScores } from '../src/train/target.ts';
import { runModel } from '../src/train/runModel.ts';
import { getGpu } from './helpers.ts';
import { e003, quiet, settings } from './realSample.ts';

// A short training run on the real E003 sample (../shared/datasets) on both
// executors: it must learn, and the two must end at the same place.

describe('training on the real E003 sample', () => {
  it('lifts validation AUROC well above 0.5 on both executors, which agree on test AUROC', async () => {
    const ds = await e003();
    const cpu = await runModel(ds, settings, { kind: 'cpu' }, quiet);
    const gpu = await runModel(ds, settings, { kind: 'gpu', gpu: await getGpu() }, quiet);
    for (const r of [cpu, gpu]) {
      expect(classScores(r.result.valid, 'r').auroc).toBeGreaterThan(0.75);
      expect(r.result.history).toHaveLength(3);
    }
    expect(Math.abs(classScores(gpu.result.test, 'gpu').auroc - classScores(cpu.result.test, 'cpu').auroc)).toBeLessThanOrEqual(0.02);
    expect(gpu.result.bestEpoch).toBe(cpu.result.bestEpoch);
  });

  it('the same seed on the same executor gives the same result', async () => {
    const ds = await e003();
    const a = await runModel(ds, { ...settings, epochs: 2 }, { kind: 'cpu' }, quiet);
    const b = await runModel(ds, { ...settings, epochs: 2 }, { kind: 'cpu' }, quiet);
    expect(b.result.history.map((h) => h.trainLoss)).toEqual(a.result.history.map((h) => h.trainLoss));
    expect(Array.from(b.result.testPredictions)).toEqual(Array.from(a.result.testPredictions));
  });

  it('refuses a labeled subset with one class', async () => {
    const ds = await e003();
    await expect(runModel(ds, { ...settings, trainSize: 1 }, { kind: 'cpu' }, quiet)).rejects.toThrow(
      /E003 labeled training genes: all 1 genes have label [01]; need both classes/,
    );
  });
});
