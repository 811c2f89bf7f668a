import type { Shape } from '../kernels/kernel.ts';
import type { Model } from '../nn/model.ts';
import { mlpModel } from './mlp.ts';

/** Logistic regression: flatten → one dense layer to a logit, no activation. An MLP with no hidden layer is exactly that. */
export function logregModel(inputShape: Shape): Model {
  return mlpModel({ inputShape, hidden: [] });
}

/** 10^(e/2), rounded to 6 significant digits so that it prints (and passes to scikit-learn) as it reads. */
const halfDecade = (e: number): number => Number((10 ** (e / 2)).toPrecision(6));
const halfDecades = (from: number, to: number): number[] => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => halfDecade(from + Math.sign(to - from) * i));

/** The L2 penalties λ a linear model (its definition's `linear-fit` phase) is fit at, 1e-6 … 1e2 at half-decade steps; the run keeps
 * the one with the best validation AUROC (Pearson for --target expression), ties to the stronger. The objective is
 * mean loss + λ/2·‖w‖² (textbook L2 logistic regression, or ridge with the MSE), the bias not penalised, fit to
 * convergence by L-BFGS (src/train/linearFit.ts), strongest first, each fit warm-started from the one before. */
export const LOGREG_L2_GRID: readonly number[] = halfDecades(4, -12);

/** Where the grid may grow when the best penalty is at its end: three more decades below, two above. Past those,
 * metrics.json says the penalty is at the edge (`penaltyAtEdge`). */
export const LOGREG_L2_EXTEND_LOW: readonly number[] = halfDecades(-13, -18);
export const LOGREG_L2_EXTEND_HIGH: readonly number[] = halfDecades(5, 8);
