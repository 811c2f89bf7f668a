import { describe, expect, it } from 'vitest';
import type { AttentionPoolSizes } from '../src/cpu/attentionPool.ts';
import { attentionPoolBackwardKernel, attentionPoolContextGradKernel, attentionPoolForwardKernel } from '../src/kernels/attentionPool.ts';
import { dot, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

// What is particular to attention pooling: its gradients against float64
// finite differences, the mask, large scores, and its refusals.
// test/kernelFamilies.test.ts runs each kernel GPU against CPU with outputs poisoned.

function setup(s: AttentionPoolSizes, seed: number) {
  const h = randomArray(s.batch * s.length * s.groups * s.width, seed, -2, 2);
  const context = randomArray(s.groups * s.width, seed + 1, -1.5, 1.5);
  const w = randomArray(s.batch * s.groups * s.width, seed + 2);
  const loss = (v: Record<string, Float64Array>): number =>
    dot(w, runCpu64(attentionPoolForwardKernel(s), { h: v.h as Float64Array, context: v.context as Float64Array }).pooled as Float64Array);
  const fwd = runCpu64(attentionPoolForwardKernel(s), { h, context });
  const bwd = runCpu64(attentionPoolBackwardKernel(s), { dpooled: w, h, context, alpha: fwd.alpha as Float64Array });
  const cg = runCpu64(attentionPoolContextGradKernel(s), { h, dscore: bwd.dscore as Float64Array });
  return { h, context, w, loss, fwd, bwd, dcontext: cg.dcontext as Float64Array };
}

const SIZES: readonly AttentionPoolSizes[] = [
  { batch: 3, length: 6, groups: 2, width: 5 },
  { batch: 1, length: 1, groups: 1, width: 3 },
  { batch: 2, length: 9, groups: 3, width: 4, valid: 6 },
];

describe('attention pooling gradients against float64 finite differences', () => {
  for (const s of SIZES) {
    it(`B=${s.batch} T=${s.length} valid=${s.valid ?? s.length} G=${s.groups} D=${s.width}`, () => {
      const r = setup(s, 3 * s.length + s.width);
      const at = { h: r.h, context: r.context };
      expect(finiteDifferenceError(r.loss, at, 'h', r.bwd.dh as Float64Array), 'h').toBeLessThan(1e-6);
      expect(finiteDifferenceError(r.loss, at, 'context', r.dcontext), 'context').toBeLessThan(1e-6);
    });
  }
});

describe('attention pooling mask', () => {
  it('gives padded positions no weight and no gradient, whatever they hold', () => {
    const s: AttentionPoolSizes = { batch: 2, length: 9, groups: 3, width: 4, valid: 6 };
    const r = setup(s, 7);
    const h2 = Float32Array.from(r.h);
    // Poison the padding: the pooled vector must not change.
    for (let b = 0; b < s.batch; b++) for (let t = 6; t < 9; t++) for (let i = 0; i < s.groups * s.width; i++) h2[(b * s.length + t) * s.groups * s.width + i] = 1e6;
    const again = runCpu64(attentionPoolForwardKernel(s), { h: h2, context: r.context });
    expect(Array.from(again.pooled as Float64Array)).toEqual(Array.from(r.fwd.pooled as Float64Array));
    const alpha = r.fwd.alpha as Float64Array;
    for (let seq = 0; seq < s.batch * s.groups; seq++) {
      let sum = 0;
      for (let t = 0; t < 9; t++) {
        if (t >= 6) expect(alpha[seq * 9 + t]).toBe(0);
        sum += alpha[seq * 9 + t] as number;
      }
      expect(sum).toBeCloseTo(1, 12);
    }
    const dh = r.bwd.dh as Float64Array;
    for (let b = 0; b < s.batch; b++) for (let t = 6; t < 9; t++) for (let i = 0; i < s.groups * s.width; i++) expect(dh[(b * s.length + t) * s.groups * s.width + i]).toBe(0);
  });

  it('stays finite on the GPU with scores far past exp’s range', async () => {
    const s: AttentionPoolSizes = { batch: 2, length: 37, groups: 2, width: 3 };
    const h = randomArray(2 * 37 * 2 * 3, 4, -100, 100);
    const context = Float32Array.from([50, -50, 50, 20, 20, -20]);
    const r = await runBoth(attentionPoolForwardKernel(s), { h, context });
    for (const v of r.gpu.pooled as Float32Array) expect(Number.isFinite(v)).toBe(true);
    expect(maxRelError(r.gpu.alpha as Float32Array, r.cpu.alpha as Float32Array)).toBeLessThan(1e-4);
  });
});

describe('attention pooling refusals', () => {
  it('names the kernel and the size that is wrong', () => {
    expect(() => attentionPoolForwardKernel({ batch: 1, length: 5, groups: 1, width: 2, valid: 6 })).toThrow(
      'attentionPool.forward[T=5,G=1,D=2]: 6 valid positions in a sequence of 5',
    );
    expect(() => attentionPoolBackwardKernel({ batch: 1, length: 5, groups: 0, width: 2 })).toThrow(/attentionPool\.backward.*groups/);
  });
});
