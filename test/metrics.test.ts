import { describe, expect, it } from 'vitest';
import { accuracy } from '../src/metrics/accuracy.ts';
import { aupr, precisionRecallCurve } from '../src/metrics/aupr.ts';
import { auroc, rocCurve } from '../src/metrics/auroc.ts';
import { rng } from './helpers.ts';

// Reference values are worked out by hand from scikit-learn's definitions:
// sort by score descending; each distinct score is one threshold, with
// tp/fp = positives/negatives scoring >= it; ROC area is the trapezoid rule
// over (fp/N, tp/P) from (0, 0); AP = Σ (R_k − R_{k−1}) P_k over the
// thresholds from the highest down, R_0 = 0, P_k = tp/(tp + fp), R_k = tp/P.

function expectClose(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i] as number, 12);
}

/** P(score_pos > score_neg) + ½ P(equal), over every positive-negative pair. */
function pairwiseAuroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      const si = scores[i] as number;
      const sj = scores[j] as number;
      wins += si > sj ? 1 : si === sj ? 0.5 : 0;
      pairs++;
    }
  }
  return wins / pairs;
}

/** AP straight from the definition, one full scan per distinct score: no sorting, no running counts. */
function definitionAupr(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const distinct = [...new Set(Array.from(scores, (s) => (Object.is(s, -0) ? 0 : s)))].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] as number;
  let ap = 0;
  let recallPrev = 0;
  for (const t of distinct) {
    let tp = 0;
    let predicted = 0;
    for (let i = 0; i < labels.length; i++) {
      if ((scores[i] as number) >= t) {
        predicted++;
        tp += labels[i] as number;
      }
    }
    const recall = tp / positives;
    ap += (recall - recallPrev) * (tp / predicted);
    recallPrev = recall;
  }
  return ap;
}

/** Mann-Whitney U with mid-ranks for ties: an independent O(n log n) route to the same area. */
function rankSumAuroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && scores[idx[end + 1] as number] === scores[idx[start] as number]) end++;
    const midRank = (start + end) / 2 + 1;
    for (let r = start; r <= end; r++) {
      if (labels[idx[r] as number] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Labels with both classes and scores drawn from `levels` values, so ties are everywhere. */
function tiedData(n: number, seed: number, levels: number): { labels: Uint8Array; scores: Float64Array } {
  const r = rng(seed);
  const labels = new Uint8Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = r() < 0.4 ? 1 : 0;
    // Positives lean higher so the area is away from 0.5 and mistakes show.
    scores[i] = Math.floor((r() + 0.3 * (labels[i] as number)) * levels) / levels;
  }
  labels[0] = 1;
  labels[1] = 0;
  return { labels, scores };
}

describe('auroc and aupr on hand-worked examples', () => {
  it("scikit-learn's documented example: AUROC 0.75, AP 5/6", () => {
    // Descending: 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg) -> tp 1,1,2,2; fp 0,1,1,2.
    // ROC points (0,0),(0,.5),(.5,.5),(.5,1),(1,1): area .5*.5 + .5*1 = .75.
    // AP = .5*1 + 0*(1/2) + .5*(2/3) + 0*(2/4) = 5/6.
    expect(auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(aupr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.8333333333, 10);
  });

  it('all scores tied: one diagonal ROC segment (0.5) and one PR point at the class balance (0.5)', () => {
    // One threshold, 0.5: tp 2, fp 2. ROC goes (0,0) -> (1,1) in one straight
    // line: area 1/2. AP = (1 - 0) * 2/4 = 1/2.
    expect(auroc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    expect(aupr([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
  });

  it('a tie between a positive and a negative: AUROC 0.75, AP 5/6', () => {
    // Thresholds 0.9 (tp 1, fp 0) and 0.3 (tp 2, fp 1). ROC (0,0),(0,.5),(1,1):
    // area 1 * (.5 + 1)/2 = .75; by pairs: 0.9 beats the negative (1), the tied
    // 0.3 counts half -> 1.5/2. AP = (.5)(1/1) + (.5)(2/3) = 5/6: the tie enters
    // as one step at its combined precision, not as a positive ranked first.
    expect(auroc([0, 1, 1], [0.3, 0.3, 0.9])).toBeCloseTo(0.75, 12);
    expect(aupr([0, 1, 1], [0.3, 0.3, 0.9])).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12);
  });

  it('perfect and reversed rankings', () => {
    expect(auroc([0, 0, 1, 1], [1, 2, 3, 4])).toBe(1);
    expect(aupr([0, 0, 1, 1], [1, 2, 3, 4])).toBe(1);
    expect(auroc([0, 0, 1, 1], [4, 3, 2, 1])).toBe(0);
    // Descending 4(neg) 3(neg) 2(pos) 1(pos): AP = .5*(1/3) + .5*(2/4) = 5/12.
    expect(aupr([0, 0, 1, 1], [4, 3, 2, 1])).toBeCloseTo(5 / 12, 12);
  });

  it('infinite scores are ordered like any other; the zeros -0 and 0 are one threshold', () => {
    expect(auroc([0, 1], [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY])).toBe(1);
    expect(auroc([0, 1, 0, 1], [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0, 0])).toBe(0.5);
    expect(auroc([0, 1], [-0, 0])).toBe(0.5);
    expect(rocCurve([0, 1], [-0, 0]).thresholds.length).toBe(2);
  });
});

describe('rocCurve and precisionRecallCurve points', () => {
  it("match scikit-learn's documented roc_curve example", () => {
    const c = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expectClose(c.fpr, [0, 0, 0.5, 0.5, 1]);
    expectClose(c.tpr, [0, 0.5, 0.5, 1, 1]);
    expect(Array.from(c.thresholds)).toEqual([Number.POSITIVE_INFINITY, 0.8, 0.4, 0.35, 0.1]);
  });

  it("match scikit-learn's documented precision_recall_curve example", () => {
    const c = precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expectClose(c.precision, [0.5, 2 / 3, 0.5, 1, 1]);
    expectClose(c.recall, [1, 1, 0.5, 0.5, 0]);
    expect(Array.from(c.thresholds)).toEqual([0.1, 0.35, 0.4, 0.8]);
  });

  it('a tie is a single diagonal point', () => {
    const c = rocCurve([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]);
    expectClose(c.fpr, [0, 1]);
    expectClose(c.tpr, [0, 1]);
  });

  it('rocCurve drops collinear points by default, keeps them on request', () => {
    // Descending 4,3 (pos) 2,1 (neg): fp 0,0,1,2; tp 1,2,2,2. The point at
    // threshold 2, (.5, 1), lies on the line from (0, 1) to (1, 1).
    const kept = rocCurve([1, 1, 0, 0], [4, 3, 2, 1]);
    expectClose(kept.fpr, [0, 0, 0, 1]);
    expectClose(kept.tpr, [0, 0.5, 1, 1]);
    expect(Array.from(kept.thresholds)).toEqual([Number.POSITIVE_INFINITY, 4, 3, 1]);
    const all = rocCurve([1, 1, 0, 0], [4, 3, 2, 1], { dropIntermediate: false });
    expectClose(all.fpr, [0, 0, 0, 0.5, 1]);
    expectClose(all.tpr, [0, 0.5, 1, 1, 1]);
  });

  it('precisionRecallCurve keeps every point by default, drops flat-recall ones on request', () => {
    // Descending 4 (pos) 3, 2 (neg) 1 (pos): tp 1,1,1,2; fp 0,1,2,2. At
    // threshold 3 recall equals both neighbours' (.5), so it is the one dropped.
    const dropped = precisionRecallCurve([1, 0, 0, 1], [4, 3, 2, 1], { dropIntermediate: true });
    expectClose(dropped.precision, [0.5, 1 / 3, 1, 1]);
    expectClose(dropped.recall, [1, 0.5, 0.5, 0]);
    expect(Array.from(dropped.thresholds)).toEqual([1, 2, 4]);
    const all = precisionRecallCurve([1, 0, 0, 1], [4, 3, 2, 1]);
    expectClose(all.precision, [0.5, 1 / 3, 0.5, 1, 1]);
    expectClose(all.recall, [1, 0.5, 0.5, 0.5, 0]);
  });

  it('the ROC curve integrates to auroc and the PR steps sum to aupr, with ties', () => {
    const { labels, scores } = tiedData(300, 11, 9);
    const roc = rocCurve(labels, scores);
    let area = 0;
    for (let k = 1; k < roc.fpr.length; k++) {
      area += (((roc.fpr[k] as number) - (roc.fpr[k - 1] as number)) * ((roc.tpr[k] as number) + (roc.tpr[k - 1] as number))) / 2;
    }
    expect(area).toBeCloseTo(auroc(labels, scores), 12);
    const pr = precisionRecallCurve(labels, scores);
    let ap = 0;
    for (let k = 0; k + 1 < pr.recall.length; k++) {
      ap += ((pr.recall[k] as number) - (pr.recall[k + 1] as number)) * (pr.precision[k] as number);
    }
    expect(ap).toBeCloseTo(aupr(labels, scores), 12);
  });
});

describe('auroc and aupr against independent computations on random data with many ties', () => {
  for (const [n, levels, seed] of [
    [2, 1, 1],
    [37, 3, 2],
    [129, 5, 3],
    [400, 10, 4],
    [400, 1000, 5],
  ] as const) {
    it(`n=${n}, ${levels} score levels`, () => {
      const { labels, scores } = tiedData(n, seed, levels);
      const area = auroc(labels, scores);
      expect(Math.abs(area - pairwiseAuroc(labels, scores))).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(area - rankSumAuroc(labels, scores))).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(aupr(labels, scores) - definitionAupr(labels, scores))).toBeLessThanOrEqual(1e-12);
    });
  }

  it('without ties AP is the mean precision at each positive', () => {
    const r = rng(21);
    const n = 257;
    const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : r() < 0.3 ? 1 : 0));
    const scores = Array.from({ length: n }, (_, i) => r() + 0.5 * (labels[i] as number));
    const ranked = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
    let tp = 0;
    let sum = 0;
    ranked.forEach((i, rank) => {
      if (labels[i] === 1) {
        tp++;
        sum += tp / (rank + 1);
      }
    });
    expect(Math.abs(aupr(labels, scores) - sum / tp)).toBeLessThanOrEqual(1e-12);
  });

  it('large n (O(n log n)): agrees with the rank-sum statistic; order of samples does not matter', () => {
    const { labels, scores } = tiedData(100_000, 31, 50);
    expect(Math.abs(auroc(labels, scores) - rankSumAuroc(labels, scores))).toBeLessThanOrEqual(1e-12);
    // Reversing the sample order permutes the input but not the answer.
    const revLabels = labels.slice().reverse();
    const revScores = scores.slice().reverse();
    expect(auroc(revLabels, revScores)).toBe(auroc(labels, scores));
    expect(Math.abs(aupr(revLabels, revScores) - aupr(labels, scores))).toBeLessThanOrEqual(1e-12);
  });

  it('is invariant to a strictly increasing transform of the scores', () => {
    const { labels, scores } = tiedData(200, 41, 7);
    const logits = scores.map((s) => Math.log((s + 0.01) / (1.5 - s)));
    expect(auroc(labels, logits)).toBe(auroc(labels, scores));
    expect(aupr(labels, logits)).toBe(aupr(labels, scores));
  });
});

describe('accuracy', () => {
  it('predicts class 1 strictly above the threshold', () => {
    // Predictions at 0.5: 0, 1, 0 (0.5 is not above), 0, 1 -> right on all but the third.
    expect(accuracy([0, 1, 1, 0, 1], [0.2, 0.7, 0.5, 0.5, 0.9])).toBe(0.8);
    // At 0.1 everything is predicted 1: right on the three positives.
    expect(accuracy([0, 1, 1, 0, 1], [0.2, 0.7, 0.5, 0.5, 0.9], 0.1)).toBe(0.6);
    expect(accuracy([0, 1], [0.9, 0.1])).toBe(0);
  });

  it('is defined with one class present', () => {
    expect(accuracy([1, 1], [0.9, 0.2])).toBe(0.5);
  });
});

describe('metrics reject bad input with clear messages', () => {
  it('one class only, naming the missing class', () => {
    for (const [fn, name] of [
      [auroc, 'auroc'],
      [aupr, 'aupr'],
      [rocCurve, 'rocCurve'],
      [precisionRecallCurve, 'precisionRecallCurve'],
    ] as const) {
      expect(() => fn([0, 0, 0], [0.1, 0.2, 0.3])).toThrow(
        `${name}: only class 0 is present in the labels (no positives, class 1 is missing); ${name} is undefined`,
      );
      expect(() => fn([1, 1], [0.1, 0.2])).toThrow(
        `${name}: only class 1 is present in the labels (no negatives, class 0 is missing); ${name} is undefined`,
      );
    }
  });

  it('length mismatch, no samples, labels other than 0/1, NaN', () => {
    expect(() => auroc([0, 1, 1], [0.1, 0.2])).toThrow('auroc: 3 labels but 2 scores');
    expect(() => aupr([], [])).toThrow('aupr: no samples');
    expect(() => auroc([0, 2, 1], [0.1, 0.2, 0.3])).toThrow('auroc: labels[1] is 2; labels must be 0 or 1');
    expect(() => aupr([0, 1, 1], [0.1, Number.NaN, 0.3])).toThrow('aupr: scores[1] is NaN');
    expect(() => accuracy([0, 1], [0.1])).toThrow('accuracy: 2 labels but 1 probabilities');
    expect(() => accuracy([], [])).toThrow('accuracy: no samples');
    expect(() => accuracy([0, -1], [0.1, 0.2])).toThrow('accuracy: labels[1] is -1; labels must be 0 or 1');
    expect(() => accuracy([0, 1], [Number.NaN, 0.2])).toThrow('accuracy: probabilities[0] is NaN');
    expect(() => accuracy([0, 1], [0.1, 0.2], Number.NaN)).toThrow('accuracy: threshold is NaN');
  });
});
