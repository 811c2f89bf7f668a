import { sigmoid } from '../cpu/activation.ts';
import { bceWithLogitsKernel } from '../kernels/bce.ts';
import type { Kernel } from '../kernels/kernel.ts';
import { meanSquaredErrorKernel } from '../kernels/mse.ts';
import { accuracy } from '../metrics/accuracy.ts';
import { aupr } from '../metrics/aupr.ts';
import { auroc } from '../metrics/auroc.ts';
import { meanSquaredError, pearson, spearman } from '../metrics/correlation.ts';

// What a model predicts per gene, and everything that follows from it: the
// loss its plan ends in, how its one output becomes a prediction, how a split
// is scored and which score picks the best epoch. Every model body ends in one
// output per gene, so any model of the registry trains for either target with
// the same layers: "class" reads the output as a logit (BCE, sigmoid),
// "expression" as log10(RPKM + 1) itself (MSE, identity).

export const TARGETS = ['class', 'expression'] as const;
export type Target = (typeof TARGETS)[number];

export const isTarget = (v: unknown): v is Target => (TARGETS as readonly unknown[]).includes(v);

export interface ClassScores {
  readonly auroc: number;
  readonly aupr: number;
  readonly accuracy: number;
  /** Mean BCE. */
  readonly loss: number;
}

/** Scores of log10(RPKM + 1) predictions, on that scale. */
export interface ExpressionScores {
  readonly mse: number;
  /** NaN when the predictions (or the observed values) are all equal. */
  readonly pearson: number;
  readonly spearman: number;
  /** The training loss's measure: the MSE. */
  readonly loss: number;
}

export type Scores = ClassScores | ExpressionScores;

export const isClassScores = (s: Scores): s is ClassScores => 'auroc' in s;

/** The classification scores of a run that must be a classifier (the page, the classification tables). */
export function classScores(s: Scores, where: string): ClassScores {
  if (!isClassScores(s)) throw new Error(`${where}: this run predicts expression (Pearson ${s.pearson}), not a class`);
  return s;
}

export function lossKernelFor(target: Target, opts: { readonly batch: number; readonly accumulate?: boolean }): {
  readonly kernel: Kernel;
  readonly output: string;
  readonly gradient: string;
} {
  switch (target) {
    case 'class': return { kernel: bceWithLogitsKernel(opts), output: 'logits', gradient: 'dlogits' };
    case 'expression': return { kernel: meanSquaredErrorKernel(opts), output: 'outputs', gradient: 'doutputs' };
    default: return unknownTarget(target);
  }
}

function unknownTarget(t: never): never {
  throw new Error(`target: unknown target ${JSON.stringify(t)}; known targets are ${TARGETS.join(', ')}`);
}

/** The prediction a model's raw output stands for: a probability, or log10(RPKM + 1) as output. */
export function predictionsOf(target: Target, outputs: ArrayLike<number>): Float32Array {
  return target === 'class' ? Float32Array.from(outputs, sigmoid) : Float32Array.from(outputs);
}

function bceLoss(labels: ArrayLike<number>, logits: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const z = logits[i] as number;
    s += Math.max(z, 0) - z * (labels[i] as number) + Math.log1p(Math.exp(-Math.abs(z)));
  }
  return s / labels.length;
}

/** Scores of raw outputs against what was observed (0/1 labels, or log10(RPKM + 1)). */
export function scoresFor(target: Target, observed: ArrayLike<number>, outputs: ArrayLike<number>): Scores {
  if (target === 'class') {
    const p = Array.from(outputs, sigmoid);
    return { auroc: auroc(observed, outputs), aupr: aupr(observed, outputs), accuracy: accuracy(observed, p), loss: bceLoss(observed, outputs) };
  }
  const mse = meanSquaredError(observed, outputs);
  return { mse, pearson: pearson(observed, outputs), spearman: spearman(observed, outputs), loss: mse };
}

/** The score that picks the best epoch (and logreg's penalty): validation AUROC, or validation Pearson.
 * NaN (a constant prediction) ranks below every number. */
export function selectionScore(s: Scores): number {
  const v = isClassScores(s) ? s.auroc : s.pearson;
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
}

export const selectionName = (target: Target): 'AUROC' | 'Pearson' => (target === 'class' ? 'AUROC' : 'Pearson');

/** "AUROC 0.8123" or "Pearson 0.7012", for progress lines. */
export function describeSelection(s: Scores): string {
  return isClassScores(s) ? `AUROC ${s.auroc.toFixed(4)}` : `Pearson ${s.pearson.toFixed(4)}`;
}
