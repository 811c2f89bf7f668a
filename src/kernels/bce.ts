import { bceWithLogits } from '../cpu/bce.ts';
import { type BatchLossOptions, batchLossKernel } from './batchLoss.ts';
import type { Kernel } from './kernel.ts';

export type BceOptions = BatchLossOptions;

/**
 * Binary cross-entropy with logits, stable for any |z|. Slots: logits [batch],
 * targets [batch] (0/1 as f32), loss [1] = mean over the batch (written, or
 * added to with `accumulate`), dlogits [batch] = (sigmoid(z) - y) / batch.
 */
export function bceWithLogitsKernel(opts: BceOptions): Kernel {
  return batchLossKernel({ entryPoint: 'bce_with_logits', shader: 'bce', input: 'logits', gradient: 'dlogits', cpu: bceWithLogits }, opts);
}
