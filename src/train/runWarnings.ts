import { type ModelName, isLinear } from '../models/registry.ts';
import { isClassScores } from './target.ts';
import type { TrainResult } from './trainClassifier.ts';

// A run can end without an error and still have learnt nothing: its best
// validation score no better than chance, or one prediction for every test
// gene. Such a run ends with a warning that says so, why that may be and what
// to try, rather than leaving the user to find it in a table.

export interface WarningContext {
  readonly model: ModelName;
  /** Labeled genes it trained on, of the training split's. */
  readonly labeledGenes: number;
  readonly trainingGenes: number;
  readonly lr: number;
  readonly epochs: number;
  /** The --normalize scheme. */
  readonly normalize: string;
}

/** Predictions this close together (relative to their size) are one prediction. */
const CONSTANT_SPREAD = 1e-6;

/** Whether every prediction is the same value (to float precision); true for none. */
export function isConstant(predictions: ArrayLike<number>): boolean {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i] as number;
    if (p < lo) lo = p;
    if (p > hi) hi = p;
  }
  return !(hi - lo > CONSTANT_SPREAD * Math.max(1, Math.abs(hi), Math.abs(lo)));
}

/** What to try, with the values this run used. */
function remedies(c: WarningContext): string {
  const tries = [
    c.labeledGenes < c.trainingGenes
      ? `more labeled genes (it trained on ${c.labeledGenes} of ${c.trainingGenes}: raise --train-size)`
      : `more labeled genes (it trained on all ${c.labeledGenes} of this cell's: too few for this model: try one with fewer parameters, such as a linear one)`,
    ...(isLinear(c.model)
      ? []
      : [`another learning rate (--lr ${c.lr}: lower it if the loss jumps about, raise it if the loss barely moves)`, `more epochs (--epochs ${c.epochs})`]),
    `another input scaling (--normalize ${c.normalize})`,
  ];
  return `try ${tries.join(', ')}`;
}

/** The warnings a finished run ends with: none when it learnt something its validation genes show. */
export function runWarnings(r: Pick<TrainResult, 'valid' | 'testPredictions'>, c: WarningContext): string[] {
  const warnings: string[] = [];
  const v = r.valid;
  if (isClassScores(v) ? !(v.auroc > 0.5) : !(v.pearson > 0)) {
    const score = isClassScores(v)
      ? `the best validation AUROC is ${v.auroc.toFixed(4)}, no better than chance (0.5)`
      : `the best validation Pearson is ${Number.isNaN(v.pearson) ? 'undefined (the predictions do not vary)' : v.pearson.toFixed(4)}, no better than chance (0)`;
    warnings.push(`${score}: the model learnt nothing that carries over to genes it did not train on; ${remedies(c)}`);
  }
  if (isConstant(r.testPredictions)) {
    const p = r.testPredictions[0];
    warnings.push(
      `every test gene got the same prediction${p !== undefined ? ` (${p.toPrecision(6)})` : ''}: the model's output does not depend on its input ` +
        `(its units died, or training drove it to one answer); ${remedies(c)}`,
    );
  }
  return warnings;
}
