import { describe, expect, it } from 'vitest';
import { BASELINES, type ExperimentRow, WINDOW_BASELINES, bestBaselines, bestEpochTable } from '../src/cli/experiment/experimentReport.ts';
import { MODEL_NAMES, MODEL_REGISTRY, usesNeighbors } from '../src/models/registry.ts';

// The experiment's tables say where each classifier's best epoch fell (a best
// epoch that is the last one may mean it stopped too soon) and which
// window-only baseline is strongest at each size (the claim is measured
// against it, whichever it is).

const row = (model: string, size: number | 'all', seed: number, testAuroc: number, bestEpoch: number, epochs: number): ExperimentRow => ({
  cell: 'E116',
  model,
  size,
  seed,
  labeled: size === 'all' ? 500 : size,
  validAuroc: 0.8,
  validAupr: 0.7,
  testAuroc,
  testAupr: 0.7,
  bestEpoch,
  epochs,
  seconds: 1,
});

describe('the experiment report', () => {
  const rows = [
    row('logreg', 100, 1, 0.84, 19, 19),
    row('logreg', 100, 2, 0.82, 23, 23),
    row('logreg', 100, 3, 0.83, 12, 12),
    row('mlp', 100, 1, 0.83, 15, 100),
    row('mlp', 100, 2, 0.85, 100, 100),
    row('mlp', 100, 3, 0.86, 7, 100),
    row('tss-linear', 100, 1, 0.86, 9, 9),
    row('tss-linear', 100, 2, 0.85, 8, 8),
    row('mlp', 'all', 1, 0.9, 30, 30),
    row('logreg', 'all', 1, 0.91, 40, 40),
    row('expression-prior', 100, 1, 0.95, 5, 5),
  ];

  it('gives the median best epoch, of how many, and how often it was the last; iterations for a converged model', () => {
    const linear = (m: string) => m === 'logreg' || m === 'tss-linear';
    const t = bestEpochTable(rows, 'E116', ['logreg', 'mlp', 'deepchrome'], [100, 'all'], 500, linear);
    expect(t.header).toEqual(['model', '100', 'all (500)']);
    expect(t.body).toEqual([
      ['logreg (L-BFGS iterations)', '19', '40'],
      ['mlp', '15 of 100; last in 1/3', '30 of 30; last in 1/1'],
      ['deepchrome', '–', '–'],
    ]);
  });

  it('names the best window-only baseline at each size by mean test score, never one that sees other cells', () => {
    // tss-linear's mean over its two seeds (0.855) beats mlp's (0.847) and logreg's (0.83) at 100; expression-prior is not a window baseline.
    expect(WINDOW_BASELINES).not.toContain('expression-prior');
    const best = bestBaselines(rows, 'E116', [100, 'all', 1000], WINDOW_BASELINES);
    expect(best.map((b) => [b.size, b.baseline])).toEqual([
      [100, 'tss-linear'],
      ['all', 'logreg'],
    ]);
    expect(best[0]?.mean).toBeCloseTo(0.855, 12);
  });

  it('takes its baselines from the definitions that declare themselves one, a neighbour baseline under each arm', () => {
    for (const m of MODEL_NAMES) {
      const kind = MODEL_REGISTRY[m].baseline;
      expect(BASELINES.includes(m), m).toBe(kind !== undefined);
      expect(WINDOW_BASELINES.includes(m), m).toBe(kind === 'window');
      if (kind !== undefined && usesNeighbors(m)) expect(BASELINES).toEqual(expect.arrayContaining([`${m}:spatial`, `${m}:functional`]));
    }
    // mark-means went in by its definition file alone, and is a window baseline by its own declaration.
    expect(WINDOW_BASELINES).toContain('mark-means');
  });
});
