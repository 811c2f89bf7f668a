import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { markMeans } from '../src/models/definitions/mark-means.ts';
import { MODEL_REGISTRY, classifierSpecFor, isLinear } from '../src/models/registry.ts';
import { runMain } from './cliHelpers.ts';

// mark-means, the model added by its definition file and one registry line:
// its features, and a run on the real E003 sample with predict reproducing it.

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-mark-means-${tag}-`));

describe('mark-means', () => {
  it("is each mark's mean over the window, read by logistic regression", () => {
    // 2 genes × 3 bins × 2 marks, bin-major as the dataset.
    const window = Float32Array.from([1, 10, 2, 20, 3, 30, -1, 0, 1, 0, 3, 6]);
    expect([...markMeans(window, 2, 3, 2)]).toEqual([2, 20, 1, 2]);
    expect(() => markMeans(window, 2, 3, 3)).toThrow('mark-means: the window holds 12 values, 2 genes × 3 bins × 3 marks is 18');
    expect(isLinear('mark-means')).toBe(true);
    expect(MODEL_REGISTRY['mark-means'].input).toBe('derived');
    expect(classifierSpecFor('mark-means', { bins: 100, marks: 5, derivedWidth: 5 }, 1e-2)).toEqual({ architecture: 'logreg', inputShape: [5], l2: 1e-2 });
  });

  it('trains on the E003 sample on the CPU with the penalty search, and predict reproduces predictions.csv', async () => {
    const dir = join(tmp('cpu'), 'run');
    const c = await runMain(['--cpu', '--model', 'mark-means', '--data', DEFAULT_REAL_SAMPLE, '--train-size', '100', '--seed', '1', '--quiet', '--out', dir]);
    expect(c.code, c.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as {
      test: { auroc: number };
      l2Penalty: { grid: number[]; validAuroc: number[] };
      derivedFeatures: { width: number };
    };
    expect(m.derivedFeatures.width).toBe(5);
    expect(m.l2Penalty.validAuroc.length).toBe(m.l2Penalty.grid.length);
    // The marks' means carry some of the signal: better than chance on the sample's test genes.
    expect(m.test.auroc).toBeGreaterThan(0.6);

    const out = join(tmp('pred'), 'all.csv');
    const p = await runMain(['predict', '--model', dir, '--data', DEFAULT_REAL_SAMPLE, '--out', out, '--cpu', '--quiet']);
    expect(p.code, p.stderr).toBe(0);
    const body = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).sort();
    const trained = body(join(dir, 'predictions.csv'));
    expect(trained.length).toBe(200);
    expect(body(out).filter((l) => trained.includes(l)).length).toBe(trained.length);
  }, 300_000);
});
