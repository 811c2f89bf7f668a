import { describe, expect, it } from 'vitest';
import { clipGradNormKernel } from '../src/kernels/clipGradNorm.ts';
import { sumAllKernel } from '../src/kernels/reduce.ts';
import { maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

/**
 * torch.nn.utils.clip_grad_norm_ (PyTorch 2.x, norm_type 2, foreach off), transcribed in float64 from its source
 * independently of src/cpu/clipGradNorm.ts: the norm of each parameter's gradient, the norm of those norms,
 * clip_coef = max_norm / (total_norm + 1e-6), clamped to at most 1.0, every gradient multiplied by it.
 * `parts` cuts the flat buffer into parameters, as a model's store holds them.
 */
function torchClip(grads: ArrayLike<number>, maxNorm: number, parts = 3): { clipped: Float64Array; totalNorm: number } {
  const g = Float64Array.from(grads);
  const size = Math.ceil(g.length / parts);
  const norms: number[] = [];
  for (let start = 0; start < g.length; start += size) {
    let s = 0;
    for (let i = start; i < Math.min(g.length, start + size); i++) s += (g[i] as number) ** 2;
    norms.push(Math.sqrt(s));
  }
  const totalNorm = Math.sqrt(norms.reduce((a, b) => a + b * b, 0));
  const clipCoefClamped = Math.min(maxNorm / (totalNorm + 1e-6), 1.0);
  return { clipped: g.map((x) => x * clipCoefClamped), totalNorm };
}

const SIZES = [1, 37, 129, 4096, 4097, 100_003] as const;

describe('clipGradNorm against torch.nn.utils.clip_grad_norm_ in float64', () => {
  for (const n of SIZES) {
    const grads = randomArray(n, n + 7);
    const norm = torchClip(grads, 1).totalNorm;
    for (const [what, maxNorm] of [
      ['above the limit', norm / 3],
      ['below the limit', norm * 3],
    ] as const) {
      it(`n=${n}, norm ${what}: the GPU and the CPU twin scale as torch does`, async () => {
        const { clipped } = torchClip(grads, maxNorm);
        const r = await runBoth(clipGradNormKernel({ n, maxNorm }), { grads });
        expect(maxRelError(r.gpu.grads as Float32Array, clipped)).toBeLessThanOrEqual(2e-6);
        expect(maxRelError(r.cpu.grads as Float32Array, clipped)).toBeLessThanOrEqual(2e-6);
        expect(maxRelError(runCpu64(clipGradNormKernel({ n, maxNorm }), { grads }).grads as Float64Array, clipped)).toBeLessThanOrEqual(1e-12);
        if (what === 'below the limit') {
          // Scaled by exactly 1: the gradient Adam sees is the one backward made, bit for bit.
          expect(Array.from(r.gpu.grads as Float32Array)).toEqual(Array.from(grads));
          expect(Array.from(r.cpu.grads as Float32Array)).toEqual(Array.from(grads));
        } else {
          let s = 0;
          for (const x of r.gpu.grads as Float32Array) s += x * x;
          expect(Math.sqrt(s)).toBeCloseTo(maxNorm, 4);
        }
      });
    }
  }

  it('leaves an all-zero gradient at zero (torch adds 1e-6 to the norm so it never divides by zero)', async () => {
    const r = await runBoth(clipGradNormKernel({ n: 129, maxNorm: 1 }), { grads: new Float32Array(129) });
    expect(Array.from(r.gpu.grads as Float32Array)).toEqual(new Array(129).fill(0));
    expect(Array.from(r.cpu.grads as Float32Array)).toEqual(new Array(129).fill(0));
  });

  it('computes the squared norm with reduce’s sum_all, which sums squares for it', async () => {
    const x = randomArray(100_003, 3);
    let s = 0;
    for (const v of x) s += v * v;
    const r = await runBoth(sumAllKernel({ n: 100_003, squares: true }), { x });
    expect(maxRelError(r.gpu.out as Float32Array, [s])).toBeLessThanOrEqual(1e-5);
    expect(maxRelError(r.cpu.out as Float32Array, [s])).toBeLessThanOrEqual(1e-6);
  });
});

describe('clipGradNorm refusals', () => {
  it.each([
    [0, 'maxNorm must be a positive number (as f32), got 0'],
    [-1, 'maxNorm must be a positive number (as f32), got -1'],
    [Number.NaN, 'maxNorm must be a positive number (as f32), got NaN'],
    [Number.POSITIVE_INFINITY, 'maxNorm must be a positive number (as f32), got Infinity'],
    [1e-50, 'maxNorm must be a positive number (as f32), got 1e-50'],
  ])('refuses maxNorm %s', (maxNorm, message) => {
    expect(() => clipGradNormKernel({ n: 10, maxNorm })).toThrow(message);
  });

  it('refuses an empty or fractional gradient length', () => {
    expect(() => clipGradNormKernel({ n: 0, maxNorm: 1 })).toThrow(/n/);
    expect(() => clipGradNormKernel({ n: 2.5, maxNorm: 1 })).toThrow(/n/);
  });
});
