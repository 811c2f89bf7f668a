import { CLIP_EPS, clipGradNorm } from '../cpu/clipGradNorm.ts';
import { type FloatArray, type Kernel, f32Slot, grid1d, uniformBlock } from './kernel.ts';
import { requireSumLength, sumAllDispatches, sumAllScratch } from './reduce.ts';

const WG = 256;

export interface ClipGradNormOptions {
  /** Elements of the flat gradient buffer (a parameter store's padding is zero and adds nothing). */
  readonly n: number;
  /** The largest L2 norm the gradient keeps; a longer one is scaled down to it. */
  readonly maxNorm: number;
}

/**
 * Scales grads [n] in place by min(maxNorm / (‖grads‖₂ + 1e-6), 1), as
 * torch.nn.utils.clip_grad_norm_ does before an optimizer step. The squared
 * norm is a deterministic tree sum (reduce's sum_all, in one or two
 * dispatches) into a scratch scalar that the scaling dispatch reads on the
 * GPU: 2 or 3 dispatches, no host read.
 */
export function clipGradNormKernel(o: ClipGradNormOptions): Kernel {
  const { n, maxNorm } = o;
  const name = `clipGradNorm[n=${n},max=${maxNorm}]`;
  requireSumLength(name, n);
  if (!Number.isFinite(maxNorm) || !(Math.fround(maxNorm) > 0)) {
    throw new Error(`${name}: maxNorm must be a positive number (as f32), got ${maxNorm}`);
  }
  const sizes = { n, maxNorm };
  return {
    name,
    slots: { grads: f32Slot([n], 'read_write') },
    scratch: { sumSquares: { shape: [1], dtype: 'f32' }, ...sumAllScratch(n) },
    cpu: (t) => clipGradNorm(sizes, t.grads as FloatArray),
    gpu: () => [
      ...sumAllDispatches('grads', 'sumSquares', { n, squares: true }, 'read_write'),
      {
        shader: 'clip_grad_norm',
        entryPoint: 'clip_grad_norm',
        constants: { WG },
        bindings: ['grads', 'sumSquares'],
        uniforms: uniformBlock([
          ['u32', n],
          ['f32', maxNorm],
          ['f32', CLIP_EPS],
        ]),
        workgroups: grid1d(n, WG),
      },
    ],
  };
}
