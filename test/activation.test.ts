import { describe, expect, it } from 'vitest';
import type { Activation } from '../src/cpu/activation.ts';
import { activationBackwardKernel, activationForwardKernel } from '../src/kernels/activation.ts';
import { AWKWARD, dot, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

const ACTIVATIONS: readonly Activation[] = [
  { kind: 'none' },
  { kind: 'relu' },
  { kind: 'leaky_relu', alpha: 0.5 },
  { kind: 'tanh' },
  { kind: 'sigmoid' },
  { kind: 'softplus' },
];

describe('activation forward and backward, GPU against CPU', () => {
  for (const act of ACTIVATIONS) {
    for (const n of [...AWKWARD, 70_001]) {
      it(`${act.kind} n=${n}`, async () => {
        const x = randomArray(n, n + 1, -6, 6);
        const fwd = await runBoth(activationForwardKernel(act, [n]), { x });
        expect(maxRelError(fwd.gpu.y as Float32Array, fwd.cpu.y as Float32Array)).toBeLessThanOrEqual(1e-4);
        const dy = randomArray(n, n + 2);
        const bwd = await runBoth(activationBackwardKernel(act, [n]), { y: fwd.cpu.y as Float32Array, dy });
        expect(maxRelError(bwd.gpu.dx as Float32Array, bwd.cpu.dx as Float32Array)).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  it('softplus and sigmoid stay finite and accurate for large |x|', async () => {
    const x = Float32Array.from([-100, -30, -20, -16.5, -12, -10, -8, -3, -1e-3, -1e-7, 0, 1e-7, 1e-3, 0.7, 3, 20, 30, 88, 100]);
    for (const kind of ['softplus', 'sigmoid'] as const) {
      const r = await runBoth(activationForwardKernel({ kind }, [x.length]), { x });
      const gpu = r.gpu.y as Float32Array;
      const cpu = r.cpu.y as Float32Array;
      for (let i = 0; i < x.length; i++) {
        expect(Number.isFinite(gpu[i])).toBe(true);
        // Per element, not normwise: softplus(-30) = 9.4e-14 must not round to 0,
        // and softplus(-16.5) must not lose digits to log() near 1.
        expect(Math.abs((gpu[i] as number) - (cpu[i] as number))).toBeLessThanOrEqual(1e-5 * Math.abs(cpu[i] as number) + 1e-37);
      }
    }
  });

  it('softplus backward is accurate per element where its output is tiny', async () => {
    // y = softplus(x) for x down to -20: the gradient 1 - exp(-y) needs expm1.
    const y = Float32Array.from([-20, -16.5, -12, -8, -3, -0.4, 0, 0.4, 3].map((x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))));
    const dy = new Float32Array(y.length).fill(1);
    const r = await runBoth(activationBackwardKernel({ kind: 'softplus' }, [y.length]), { y, dy });
    const gpu = r.gpu.dx as Float32Array;
    const cpu = r.cpu.dx as Float32Array;
    for (let i = 0; i < y.length; i++) {
      {
        expect(Math.abs((gpu[i] as number) - (cpu[i] as number))).toBeLessThanOrEqual(1e-5 * Math.abs(cpu[i] as number));
      }
    }
  });
});

describe('activation backward against float64 finite differences', () => {
  for (const act of ACTIVATIONS) {
    it(act.kind, () => {
      const n = 37;
      // Keep x away from relu's kink at 0, where the derivative is undefined.
      const x = randomArray(n, 7, 0.05, 3).map((v, i) => (i % 2 ? v : -v));
      const w = randomArray(n, 8);
      const loss = (inp: Record<string, Float64Array>): number =>
        dot(w, runCpu64(activationForwardKernel(act, [n]), { x: inp.x as Float64Array }).y as Float64Array);
      const y = runCpu64(activationForwardKernel(act, [n]), { x }).y as Float64Array;
      const dx = runCpu64(activationBackwardKernel(act, [n]), { y, dy: w }).dx as Float64Array;
      expect(finiteDifferenceError(loss, { x }, 'x', dx)).toBeLessThanOrEqual(1e-6);
    });
  }
});

describe('activation rejects bad parameters', () => {
  it('leaky_relu needs alpha in (0, 1)', () => {
    expect(() => activationForwardKernel({ kind: 'leaky_relu', alpha: 0 }, [3])).toThrow(
      'leaky_relu alpha must be in (0, 1), got 0',
    );
  });
});
