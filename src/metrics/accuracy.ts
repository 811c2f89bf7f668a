import { checkBinaryInputs } from './thresholdCounts.ts';

/**
 * Fraction of samples whose predicted class matches the label, predicting
 * class 1 when probability > threshold. Strictly greater, as Keras's
 * binary_accuracy and scikit-learn's predict (decision > 0) do, so a
 * probability of exactly 0.5 counts as class 0.
 */
export function accuracy(labels: ArrayLike<number>, probabilities: ArrayLike<number>, threshold = 0.5): number {
  if (Number.isNaN(threshold)) throw new Error('accuracy: threshold is NaN');
  checkBinaryInputs('accuracy', labels, probabilities, 'probabilities');
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = (probabilities[i] as number) > threshold ? 1 : 0;
    if (predicted === labels[i]) correct++;
  }
  return correct / labels.length;
}
