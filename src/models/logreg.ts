import type { Shape } from '../kernels/kernel.ts';
import type { Model } from '../nn/model.ts';
import { mlpModel } from './mlp.ts';

/** Logistic regression: flatten → one dense layer to a logit, no activation. An MLP with no hidden layer is exactly that. */
export function logregModel(inputShape: Shape): Model {
  return mlpModel({ inputShape, hidden: [] });
}

/** The L2 penalties logreg tries, weakest first; the run keeps the one with the best validation AUROC. The
 * penalty λ adds λ·w to the weights' gradient (coupled, as in textbook L2 logistic regression: the loss
 * minimised is mean BCE + λ/2·‖w‖²); the bias is not penalised. */
export const LOGREG_L2_GRID: readonly number[] = [0, 1e-4, 1e-3, 1e-2, 1e-1];
