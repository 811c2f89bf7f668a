import type { FloatArray } from '../core/tensor.ts';
import { sigmoid } from './activation.ts';

// CPU twin of shaders/bce.wgsl (Math.log1p stands in for log1p_f32).

export interface BceSizes {
  readonly batch: number;
  readonly accumulate: boolean;
}

/** loss[0] (+)= mean over the batch of max(z, 0) - z·y + log1p(exp(-|z|));
 * dlogits = (sigmoid(z) - y) / batch, written so that it keeps its digits where sigmoid(z)
 * rounds to 1 (see shaders/bce.wgsl). */
export function bceWithLogits(
  s: BceSizes,
  logits: FloatArray,
  targets: FloatArray,
  loss: FloatArray,
  dlogits: FloatArray,
): void {
  const scale = 1 / s.batch;
  let acc = 0;
  for (let i = 0; i < s.batch; i++) {
    const z = logits[i] as number;
    const y = targets[i] as number;
    acc += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
    dlogits[i] = ((1 - y) * sigmoid(z) - y * sigmoid(-z)) / s.batch;
  }
  const total = acc;
  loss[0] = s.accumulate ? (loss[0] as number) + scale * total : scale * total;
}
