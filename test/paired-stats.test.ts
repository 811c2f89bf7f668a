import { describe, expect, it } from 'vitest';
import { pairedDifference, pairedTable, t975 } from '../src/stats/paired.ts';

// The paired statistics against a case worked by hand.

describe('paired differences', () => {
  it('match a hand-computed case', () => {
    // Differences 0.02, 0.04, -0.01, 0.03, 0.02: mean 0.02; deviations 0, 0.02, -0.03, 0.01, 0;
    // squares sum 0.0014, variance 0.00035, sd 0.018708; se = sd/√5 = 0.0083666; t(0.975; 4) = 2.776;
    // half-width 0.023226; interval [-0.003226, 0.043226]; wins 4 of 5.
    const model = new Map([[1, 0.82], [2, 0.84], [3, 0.79], [4, 0.83], [5, 0.82]]);
    const base = new Map([[1, 0.8], [2, 0.8], [3, 0.8], [4, 0.8], [5, 0.8]]);
    const p = pairedDifference(model, base);
    expect(p?.n).toBe(5);
    expect(p?.mean).toBeCloseTo(0.02, 12);
    expect(p?.sd).toBeCloseTo(0.0187083, 6);
    expect(p?.low).toBeCloseTo(-0.003226, 5);
    expect(p?.high).toBeCloseTo(0.043226, 5);
    expect(p?.wins).toBe(4);
  });

  it('use only the seeds both models finished; one seed has no interval; none gives nothing', () => {
    const p = pairedDifference(new Map([[1, 0.9], [2, 0.7]]), new Map([[2, 0.75], [3, 0.6]]));
    expect(p?.n).toBe(1);
    expect(p?.mean).toBeCloseTo(-0.05, 12);
    expect(p?.sd).toBeNaN();
    expect(p?.low).toBeNaN();
    expect(p?.wins).toBe(0);
    expect(pairedDifference(new Map([[1, 0.9]]), new Map([[2, 0.9]]))).toBeUndefined();
  });

  it('t quantiles: the table, the expansion past it, and a refusal of nonsense', () => {
    expect(t975(1)).toBe(12.706);
    expect(t975(30)).toBe(2.042);
    expect(t975(60)).toBeCloseTo(2.0003, 3);
    expect(t975(1000)).toBeCloseTo(1.9623, 3);
    expect(() => t975(0)).toThrow('t quantile: degrees of freedom must be a positive integer, got 0');
  });

  it('tabulate every model against every baseline that ran, per cell and size', () => {
    const runs = [1, 2].flatMap((seed) =>
      ['logreg', 'mlp', 'vae-mlp'].map((model, i) => ({ cell: 'E003', model, size: 100 as const, seed, testAuroc: 0.7 + 0.05 * i + 0.01 * seed })),
    );
    const rows = pairedTable(runs, ['E003'], [100], ['logreg', 'mlp', 'vae-mlp'], ['logreg', 'mlp', 'deepchrome']);
    expect(rows.map((r) => `${r.model}-${r.baseline}`)).toEqual(['mlp-logreg', 'vae-mlp-logreg', 'logreg-mlp', 'vae-mlp-mlp']);
    expect(rows[1]?.mean).toBeCloseTo(0.1, 12);
    expect(rows[1]?.sd).toBeCloseTo(0, 12);
    expect(rows[1]?.wins).toBe(2);
  });
});
