import { thresholdCounts } from './thresholdCounts.ts';

// Area under the ROC curve with scikit-learn's tie rule: the curve has one
// point per distinct score, joined by straight lines, so a group of tied
// scores is one diagonal segment and counts half of its positive-negative
// pairs as ranked correctly. That makes the area equal to
// P(score of a positive > score of a negative) + ½ P(equal).

export interface RocCurve {
  /** False positive rate, rising from 0 to 1. */
  readonly fpr: Float64Array;
  /** True positive rate, rising from 0 to 1. */
  readonly tpr: Float64Array;
  /** thresholds[k]: the curve's point k classifies score >= thresholds[k] as positive;
   * the first is +Infinity (nothing is positive), the rest are distinct scores, descending. */
  readonly thresholds: Float64Array;
}

export interface RocCurveOptions {
  /** Drop points that lie on a straight line between their neighbours; they do
   * not change the area. Default true, as scikit-learn's roc_curve. */
  readonly dropIntermediate?: boolean;
}

/** The ROC curve's points, as scikit-learn's roc_curve returns them. */
export function rocCurve(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  { dropIntermediate = true }: RocCurveOptions = {},
): RocCurve {
  const c = thresholdCounts('rocCurve', labels, scores);
  const m = c.thresholds.length;
  const keep: number[] = [];
  for (let k = 0; k < m; k++) {
    const inner = k > 0 && k < m - 1;
    if (dropIntermediate && inner) {
      // A point is on the line through its neighbours when both coordinates
      // have zero second difference (counts are integers: the test is exact).
      const fpBend = (c.falsePositives[k + 1] as number) - 2 * (c.falsePositives[k] as number) + (c.falsePositives[k - 1] as number);
      const tpBend = (c.truePositives[k + 1] as number) - 2 * (c.truePositives[k] as number) + (c.truePositives[k - 1] as number);
      if (fpBend === 0 && tpBend === 0) continue;
    }
    keep.push(k);
  }
  const fpr = new Float64Array(keep.length + 1);
  const tpr = new Float64Array(keep.length + 1);
  const thresholds = new Float64Array(keep.length + 1);
  thresholds[0] = Number.POSITIVE_INFINITY;
  keep.forEach((k, j) => {
    fpr[j + 1] = (c.falsePositives[k] as number) / c.negatives;
    tpr[j + 1] = (c.truePositives[k] as number) / c.positives;
    thresholds[j + 1] = c.thresholds[k] as number;
  });
  return { fpr, tpr, thresholds };
}

/** Area under the ROC curve (scikit-learn's roc_auc_score for binary labels 0/1). */
export function auroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const c = thresholdCounts('auroc', labels, scores);
  // Trapezoids in counts: Σ Δfp · (tp + tp_prev) is an integer (exact in a
  // double below 2^53), so the only rounding is the final division.
  let twiceArea = 0;
  let tpPrev = 0;
  let fpPrev = 0;
  for (let k = 0; k < c.thresholds.length; k++) {
    const tp = c.truePositives[k] as number;
    const fp = c.falsePositives[k] as number;
    twiceArea += (fp - fpPrev) * (tp + tpPrev);
    tpPrev = tp;
    fpPrev = fp;
  }
  return twiceArea / (2 * c.positives * c.negatives);
}
