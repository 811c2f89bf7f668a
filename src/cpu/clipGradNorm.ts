import type { FloatArray } from '../core/tensor.ts';
import { sumAll } from './reduce.ts';

// CPU twin of shaders/clip_grad_norm.wgsl and the squared-norm sum that runs
// before it (reduce.wgsl's sum_all with SQUARES), in the same order.

/** What torch.nn.utils.clip_grad_norm_ adds to the norm before dividing by it. */
export const CLIP_EPS = 1e-6;

export interface ClipGradNormSizes {
  readonly n: number;
  readonly maxNorm: number;
}

/** grads *= min(maxNorm / (‖grads‖₂ + 1e-6), 1): torch.nn.utils.clip_grad_norm_ over one flat buffer. */
export function clipGradNorm(s: ClipGradNormSizes, grads: FloatArray): void {
  // The squared norm lands in a tensor of the gradient's own precision, as it does on the GPU.
  const sumSquares = grads instanceof Float64Array ? new Float64Array(1) : new Float32Array(1);
  sumAll({ n: s.n, scale: 1, accumulate: false, squares: true }, grads, sumSquares);
  const coef = Math.min(s.maxNorm / (Math.sqrt(sumSquares[0] as number) + CLIP_EPS), 1);
  for (let i = 0; i < s.n; i++) grads[i] = (grads[i] as number) * coef;
}
