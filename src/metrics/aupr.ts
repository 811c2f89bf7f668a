import { thresholdCounts } from './thresholdCounts.ts';

// Average precision with scikit-learn's definition: a step function over the
// distinct-score thresholds, AP = Σ_k (R_k − R_{k−1}) P_k, taken from the
// highest threshold down with R_0 = 0, and no interpolation (the trapezoid
// rule would overstate the area of a PR curve). Tied scores form one
// threshold, so a tie contributes its combined recall at its combined precision.

export interface PrecisionRecallCurve {
  /** precision[k] of classifying score >= thresholds[k] as positive; the last element is 1. */
  readonly precision: Float64Array;
  /** Recall, falling to a last element of 0 (the point with no threshold). */
  readonly recall: Float64Array;
  /** Distinct scores, ascending; one fewer than the points. */
  readonly thresholds: Float64Array;
}

export interface PrecisionRecallCurveOptions {
  /** Drop points whose recall equals both neighbours' (flat runs of the
   * curve). Default false, as scikit-learn's precision_recall_curve. */
  readonly dropIntermediate?: boolean;
}

/** The precision-recall curve's points in scikit-learn's order (thresholds
 * ascending, recall descending, ending at precision 1, recall 0). */
export function precisionRecallCurve(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  { dropIntermediate = false }: PrecisionRecallCurveOptions = {},
): PrecisionRecallCurve {
  const c = thresholdCounts('precisionRecallCurve', labels, scores);
  const m = c.thresholds.length;
  const keep: number[] = [];
  for (let k = 0; k < m; k++) {
    const inner = k > 0 && k < m - 1;
    const tp = c.truePositives[k] as number;
    if (dropIntermediate && inner && tp === c.truePositives[k - 1] && tp === c.truePositives[k + 1]) continue;
    keep.push(k);
  }
  const points = keep.length;
  const precision = new Float64Array(points + 1);
  const recall = new Float64Array(points + 1);
  const thresholds = new Float64Array(points);
  keep.forEach((k, j) => {
    const tp = c.truePositives[k] as number;
    const at = points - 1 - j;
    precision[at] = tp / (tp + (c.falsePositives[k] as number));
    recall[at] = tp / c.positives;
    thresholds[at] = c.thresholds[k] as number;
  });
  precision[points] = 1;
  recall[points] = 0;
  return { precision, recall, thresholds };
}

/** Average precision (scikit-learn's average_precision_score for binary labels 0/1). */
export function aupr(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const c = thresholdCounts('aupr', labels, scores);
  let ap = 0;
  let tpPrev = 0;
  for (let k = 0; k < c.thresholds.length; k++) {
    const tp = c.truePositives[k] as number;
    const precision = tp / (tp + (c.falsePositives[k] as number));
    ap += ((tp - tpPrev) / c.positives) * precision;
    tpPrev = tp;
  }
  return ap;
}
