import { meanSquaredError } from '../cpu/mse.ts';
import { type BatchLossOptions, batchLossKernel } from './batchLoss.ts';
import type { Kernel } from './kernel.ts';

export type MseOptions = BatchLossOptions;

/**
 * Mean squared error of a regression head. Slots: outputs [batch], targets
 * [batch], loss [1] = mean of (z - y)² over the batch (written, or added to
 * with `accumulate`), doutputs [batch] = 2·(z - y) / batch. The same slots and
 * reduction as bceWithLogitsKernel, so a plan swaps one for the other.
 */
export function meanSquaredErrorKernel(opts: MseOptions): Kernel {
  return batchLossKernel({ entryPoint: 'mean_squared_error', shader: 'mse', input: 'outputs', gradient: 'doutputs', cpu: meanSquaredError }, opts);
}
