// The ranking metrics (ROC, precision-recall) are all functions of one table:
// for each distinct score, taken as a threshold from the highest down, how many
// positives and negatives score at or above it. Tied scores share one row, so a
// tie moves true and false positives together: on the ROC curve it is one
// diagonal step, exactly as scikit-learn's _binary_clf_curve groups them.

export interface ThresholdCounts {
  /** Distinct scores, highest first. */
  readonly thresholds: Float64Array;
  /** truePositives[k]: positives scoring >= thresholds[k]. */
  readonly truePositives: Float64Array;
  /** falsePositives[k]: negatives scoring >= thresholds[k]. */
  readonly falsePositives: Float64Array;
  readonly positives: number;
  readonly negatives: number;
}

/** Checks what every metric needs: equal lengths, at least one sample, labels
 * 0 or 1, no NaN among the values. Names the metric in every message. */
export function checkBinaryInputs(
  metric: string,
  labels: ArrayLike<number>,
  values: ArrayLike<number>,
  valuesName: string,
): { positives: number; negatives: number } {
  if (labels.length !== values.length) {
    throw new Error(`${metric}: ${labels.length} labels but ${values.length} ${valuesName}`);
  }
  if (labels.length === 0) throw new Error(`${metric}: no samples`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (y !== 0 && y !== 1) throw new Error(`${metric}: labels[${i}] is ${y}; labels must be 0 or 1`);
    positives += y;
    if (Number.isNaN(values[i] as number)) throw new Error(`${metric}: ${valuesName}[${i}] is NaN`);
  }
  return { positives, negatives: labels.length - positives };
}

/** Ranking metrics compare positives with negatives; with one class absent there is nothing to compare. */
export function requireBothClasses(metric: string, positives: number, negatives: number): void {
  if (positives === 0) {
    throw new Error(`${metric}: only class 0 is present in the labels (no positives, class 1 is missing); ${metric} is undefined`);
  }
  if (negatives === 0) {
    throw new Error(`${metric}: only class 1 is present in the labels (no negatives, class 0 is missing); ${metric} is undefined`);
  }
}

/** O(n log n): one sort by score, then one pass that closes a row at each change of score. */
export function thresholdCounts(metric: string, labels: ArrayLike<number>, scores: ArrayLike<number>): ThresholdCounts {
  const { positives, negatives } = checkBinaryInputs(metric, labels, scores, 'scores');
  requireBothClasses(metric, positives, negatives);
  const n = labels.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Comparisons rather than a difference, which is NaN for two equal infinities.
  order.sort((a, b) => {
    const sa = scores[a] as number;
    const sb = scores[b] as number;
    return sa > sb ? -1 : sa < sb ? 1 : 0;
  });
  const thresholds: number[] = [];
  const truePositives: number[] = [];
  const falsePositives: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r] as number;
    if ((labels[i] as number) === 1) tp++;
    else fp++;
    const score = scores[i] as number;
    // -0 === 0, so the two zeros are one threshold, as numpy's diff sees them.
    const lastOfTie = r === n - 1 || (scores[order[r + 1] as number] as number) !== score;
    if (lastOfTie) {
      thresholds.push(score);
      truePositives.push(tp);
      falsePositives.push(fp);
    }
  }
  return {
    thresholds: Float64Array.from(thresholds),
    truePositives: Float64Array.from(truePositives),
    falsePositives: Float64Array.from(falsePositives),
    positives,
    negatives,
  };
}
