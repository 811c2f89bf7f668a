import { describe, expect, it } from 'vitest';
import { bceWithLogitsKernel } from '../src/kernels/bce.ts';
import { sumAllTiling } from '../src/kernels/reduce.ts';
import { finiteDifferenceError, maxRelError, randomArray, rng, runBoth, runCpu64 } from './helpers.ts';

function randomTargets(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
}

/** The loss in float64, straight from the definition -[y log σ(z) + (1-y) log(1-σ(z))],
 * with log σ(z) = -log(1 + e^-z) written per sign so that it stays finite. */
function referenceLoss(z: ArrayLike<number>, y: ArrayLike<number>): number {
  const logSigmoid = (u: number): number => (u >= 0 ? -Math.log1p(Math.exp(-u)) : u - Math.log1p(Math.exp(u)));
  let s = 0;
  for (let i = 0; i < z.length; i++) {
    const zi = z[i] as number;
    const yi = y[i] as number;
    s -= yi * logSigmoid(zi) + (1 - yi) * logSigmoid(-zi);
  }
  return s / z.length;
}

describe('BCE with logits, GPU against CPU', () => {
  for (const batch of [1, 37, 129, 4097, 6400, 100_003]) {
    for (const range of [6, 100]) {
      it(`batch=${batch}, logits in ±${range}`, async () => {
        const logits = randomArray(batch, batch + range, -range, range);
        const targets = randomTargets(batch, batch);
        const r = await runBoth(bceWithLogitsKernel({ batch }), { logits, targets });
        expect(maxRelError(r.gpu.loss as Float32Array, r.cpu.loss as Float32Array)).toBeLessThanOrEqual(1e-4);
        expect(maxRelError(r.gpu.dlogits as Float32Array, r.cpu.dlogits as Float32Array)).toBeLessThanOrEqual(1e-4);
        expect(maxRelError(r.cpu.loss as Float32Array, [referenceLoss(logits, targets)])).toBeLessThanOrEqual(1e-6);
      });
    }
  }

  it('exercises both the fused one-pass and the two-pass loss', () => {
    expect(sumAllTiling(129).groups).toBe(1);
    expect(sumAllTiling(6400).groups).toBeGreaterThan(1);
  });

  it('stays finite and accurate element by element at extreme logits', async () => {
    const z = [-100, -30, -1e-3, 0, 1e-3, 30, 100];
    for (const y of [0, 1]) {
      const logits = Float32Array.from(z);
      const targets = new Float32Array(z.length).fill(y);
      const r = await runBoth(bceWithLogitsKernel({ batch: z.length }), { logits, targets });
      const loss = (r.gpu.loss as Float32Array)[0] as number;
      expect(Number.isFinite(loss)).toBe(true);
      expect(Math.abs(loss - referenceLoss(logits, targets))).toBeLessThanOrEqual(1e-5 * referenceLoss(logits, targets));
      const d = r.gpu.dlogits as Float32Array;
      for (let i = 0; i < z.length; i++) {
        // sigmoid(z) - y without rounding sigmoid(z) to 1 first: 1 - sigmoid(z) = sigmoid(-z).
        const zi = logits[i] as number;
        const expected = (y === 0 ? 1 / (1 + Math.exp(-zi)) : -1 / (1 + Math.exp(zi))) / z.length;
        // Per element: sigmoid(-30) = 9.4e-14 must not round to 0.
        expect(Math.abs((d[i] as number) - expected)).toBeLessThanOrEqual(1e-5 * Math.abs(expected) + 1e-37);
      }
    }
  });
});

describe('BCE with logits accumulate', () => {
  for (const batch of [37, 6400]) {
    it(`adds the batch mean to a preloaded loss (batch=${batch})`, async () => {
      const logits = randomArray(batch, 1, -8, 8);
      const targets = randomTargets(batch, 2);
      const r = await runBoth(bceWithLogitsKernel({ batch, accumulate: true }), { logits, targets, loss: [2.5] });
      expect(maxRelError(r.gpu.loss as Float32Array, r.cpu.loss as Float32Array)).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(r.gpu.loss as Float32Array, [2.5 + referenceLoss(logits, targets)])).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(r.gpu.dlogits as Float32Array, r.cpu.dlogits as Float32Array)).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('BCE gradient against float64 finite differences', () => {
  for (const batch of [1, 37]) {
    it(`batch=${batch}`, () => {
      const logits = randomArray(batch, 21, -4, 4);
      // Soft targets too: the formula and its gradient hold for any y in [0, 1].
      const targets = Float32Array.from(randomTargets(batch, 22), (v, i) => (i % 3 === 0 ? 0.3 : v));
      const kernel = bceWithLogitsKernel({ batch });
      const loss = (inp: Record<string, Float64Array>): number =>
        (runCpu64(kernel, { logits: inp.logits as Float64Array, targets }).loss as Float64Array)[0] as number;
      const dlogits = runCpu64(kernel, { logits, targets }).dlogits as Float64Array;
      expect(finiteDifferenceError(loss, { logits }, 'logits', dlogits)).toBeLessThanOrEqual(1e-6);
    });
  }
});

// Bad parameters and repeated accumulation, shared with MSE: test/batch-loss.test.ts.
