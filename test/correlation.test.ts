import { describe, expect, it } from 'vitest';
import { averageRanks, meanSquaredError, pearson, spearman } from '../src/metrics/correlation.ts';

// Reference values worked by hand (and matching scipy.stats.pearsonr / spearmanr).

describe('pearson', () => {
  it('a hand-computed case', () => {
    // x = 1,2,3,4 (mean 2.5), y = 2,1,4,3 (mean 2.5):
    // dx = -1.5,-0.5,0.5,1.5; dy = -0.5,-1.5,1.5,0.5; Σdxdy = 0.75+0.75+0.75+0.75 = 3; Σdx² = Σdy² = 5.
    expect(pearson([1, 2, 3, 4], [2, 1, 4, 3])).toBeCloseTo(0.6, 14);
  });

  it('is ±1 on lines and invariant to scale and shift', () => {
    expect(pearson([1, 2, 3], [10, 20, 30])).toBe(1);
    expect(pearson([1, 2, 3], [5, 3, 1])).toBe(-1);
    expect(pearson([1e6 + 1, 1e6 + 2, 1e6 + 4], [3, 5, 9])).toBeCloseTo(1, 12);
  });

  it('is NaN for a constant prediction or constant observed values', () => {
    expect(pearson([1, 2, 3], [0.7, 0.7, 0.7])).toBeNaN();
    expect(pearson([2, 2, 2], [1, 2, 3])).toBeNaN();
  });

  it('refuses mismatched lengths, fewer than 2 genes and non-finite values, saying which', () => {
    expect(() => pearson([1, 2], [1, 2, 3])).toThrow('pearson: 2 observed values but 3 predictions');
    expect(() => pearson([1], [1])).toThrow('pearson: needs at least 2 genes, got 1');
    expect(() => pearson([1, 2, 3], [1, Number.NaN, 3])).toThrow('pearson: value 1 is not finite (observed 2, predicted NaN)');
  });
});

describe('spearman with average ranks for ties', () => {
  it('ranks ties by their mean rank', () => {
    expect(Array.from(averageRanks([10, 20, 20, 5, 20]))).toEqual([2, 4, 4, 1, 4]);
    expect(Array.from(averageRanks([3, 3]))).toEqual([1.5, 1.5]);
  });

  it('a monotone but non-linear relation is 1', () => {
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 1000])).toBe(1);
    expect(pearson([1, 2, 3, 4], [1, 8, 27, 1000])).toBeLessThan(1);
  });

  it('a hand-computed case with ties', () => {
    // x = 1,2,2,3 → ranks 1, 2.5, 2.5, 4; y = 1,3,2,4 → ranks 1,3,2,4.
    // dx = -1.5,0,0,1.5; dy = -1.5,0.5,-0.5,1.5; Σdxdy = 4.5; Σdx² = 4.5; Σdy² = 5 → ρ = 4.5/√22.5 = 0.948683…
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 14);
  });

  it('is NaN for a constant prediction', () => {
    expect(spearman([1, 2, 3, 4], [5, 5, 5, 5])).toBeNaN();
  });

  it('refuses non-finite values', () => {
    expect(() => spearman([1, Number.POSITIVE_INFINITY], [1, 2])).toThrow('spearman: value 1 is not finite');
  });
});

describe('mean squared error', () => {
  it('a hand-computed case', () => {
    expect(meanSquaredError([1, 2, 3], [2, 0, 3.5])).toBeCloseTo(1.75, 14);
  });
});
