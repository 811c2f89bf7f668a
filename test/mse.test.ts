import { describe, expect, it } from 'vitest';
import { meanSquaredErrorKernel } from '../src/kernels/mse.ts';
import { sumAllTiling } from '../src/kernels/reduce.ts';
import { AWKWARD, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

/** The loss in float64, straight from the definition. */
function referenceLoss(z: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += ((z[i] as number) - (y[i] as number)) ** 2;
  return s / z.length;
}

// Targets as the regression head sees them: log10(RPKM + 1), from 0 to about 5.
const targetsFor = (n: number, seed: number): Float32Array => randomArray(n, seed, 0, 5);

describe('mean squared error, GPU against CPU (outputs poisoned with NaN first)', () => {
  for (const batch of [...AWKWARD, 6400, 100_003]) {
    it(`batch=${batch}`, async () => {
      const outputs = randomArray(batch, batch + 7, -1, 6);
      const targets = targetsFor(batch, batch);
      // loss and doutputs are not given: runBoth fills them with NaN, so an element left unwritten fails.
      const r = await runBoth(meanSquaredErrorKernel({ batch }), { outputs, targets });
      const d = r.gpu.doutputs as Float32Array;
      expect(d.every(Number.isFinite)).toBe(true);
      expect(maxRelError(r.gpu.loss as Float32Array, r.cpu.loss as Float32Array)).toBeLessThanOrEqual(1e-5);
      expect(maxRelError(d, r.cpu.doutputs as Float32Array)).toBeLessThanOrEqual(1e-6);
      expect(maxRelError(r.cpu.loss as Float32Array, [referenceLoss(outputs, targets)])).toBeLessThanOrEqual(1e-6);
    });
  }

  it('exercises both the fused one-pass and the two-pass loss', () => {
    expect(sumAllTiling(129).groups).toBe(1);
    expect(sumAllTiling(6400).groups).toBeGreaterThan(1);
  });

  it('gives a hand-computed case exactly', async () => {
    // residuals 1, -2, 0.5: loss (1 + 4 + 0.25) / 3 = 1.75; gradients 2r/3.
    const r = await runBoth(meanSquaredErrorKernel({ batch: 3 }), { outputs: [2, 0, 3.5], targets: [1, 2, 3] });
    for (const side of [r.gpu, r.cpu]) {
      expect(Array.from(side.loss as Float32Array)).toEqual([1.75]);
      expect(maxRelError(side.doutputs as Float32Array, [2 / 3, -4 / 3, 1 / 3])).toBeLessThanOrEqual(1e-7);
    }
  });
});

describe('mean squared error accumulate', () => {
  for (const batch of [37, 6400]) {
    it(`adds the batch mean to a preloaded loss (batch=${batch})`, async () => {
      const outputs = randomArray(batch, 1, 0, 4);
      const targets = targetsFor(batch, 2);
      const r = await runBoth(meanSquaredErrorKernel({ batch, accumulate: true }), { outputs, targets, loss: [2.5] });
      expect(maxRelError(r.gpu.loss as Float32Array, r.cpu.loss as Float32Array)).toBeLessThanOrEqual(1e-5);
      expect(maxRelError(r.gpu.loss as Float32Array, [2.5 + referenceLoss(outputs, targets)])).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe('mean squared error gradient against float64 finite differences', () => {
  for (const batch of AWKWARD) {
    it(`batch=${batch}`, () => {
      const outputs = randomArray(batch, 21, -1, 6);
      const targets = targetsFor(batch, 22);
      const kernel = meanSquaredErrorKernel({ batch });
      const loss = (inp: Record<string, Float64Array>): number =>
        (runCpu64(kernel, { outputs: inp.outputs as Float64Array, targets }).loss as Float64Array)[0] as number;
      const doutputs = runCpu64(kernel, { outputs, targets }).doutputs as Float64Array;
      expect(finiteDifferenceError(loss, { outputs }, 'outputs', doutputs)).toBeLessThanOrEqual(1e-6);
    });
  }
});

// Bad parameters and repeated accumulation, shared with BCE: test/batch-loss.test.ts.
