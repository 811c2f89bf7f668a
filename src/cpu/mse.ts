import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/mse.wgsl.

export interface MseSizes {
  readonly batch: number;
  readonly accumulate: boolean;
}

/** loss[0] (+)= mean over the batch of (z - y)²; doutputs = 2·(z - y) / batch. */
export function meanSquaredError(
  s: MseSizes,
  outputs: FloatArray,
  targets: FloatArray,
  loss: FloatArray,
  doutputs: FloatArray,
): void {
  let total = 0;
  for (let i = 0; i < s.batch; i++) {
    const r = (outputs[i] as number) - (targets[i] as number);
    total += r * r;
    doutputs[i] = (2 * r) / s.batch;
  }
  const mean = total / s.batch;
  loss[0] = s.accumulate ? (loss[0] as number) + mean : mean;
}
