import { describe, expect, it } from 'vitest';
import { maxPool1dBackwardKernel, maxPool1dForwardKernel } from '../src/kernels/maxpool1d.ts';
import type { MaxPool1dSizes } from '../src/cpu/maxpool1d.ts';
import { Plan } from '../src/plan/plan.ts';
import { dot, finiteDifferenceError, maxRelError, randomArray, rng, runBoth, runCpu64 } from './helpers.ts';

/** The bit patterns of f32 values, so -0 and 0 (and NaN payloads) compare as different. */
function bits(a: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(a).buffer);
}

const SIZES: readonly MaxPool1dSizes[] = [
  { batch: 1, length: 1, channels: 1, pool: 1 },
  { batch: 1, length: 5, channels: 1, pool: 5 },
  // DeepChrome: 91 conv outputs pooled by 5 -> 18, one position dropped.
  { batch: 3, length: 91, channels: 37, pool: 5 },
  { batch: 2, length: 37, channels: 129, pool: 4 },
  { batch: 37, length: 129, channels: 1, pool: 7 },
  { batch: 129, length: 13, channels: 3, pool: 13 },
  { batch: 16, length: 100, channels: 129, pool: 5 },
];

function label(s: MaxPool1dSizes): string {
  return `B=${s.batch} L=${s.length} C=${s.channels} P=${s.pool}`;
}

describe('maxpool1d, GPU against CPU', () => {
  for (const s of SIZES) {
    it(label(s), async () => {
      const x = randomArray(s.batch * s.length * s.channels, s.length * 31 + s.channels);
      const fwd = await runBoth(maxPool1dForwardKernel(s), { x });
      // A maximum is one of the inputs, not a computed value: exact agreement.
      expect(bits(fwd.gpu.y as Float32Array)).toEqual(bits(fwd.cpu.y as Float32Array));
      expect(fwd.gpu.argmax).toEqual(fwd.cpu.argmax);
      expect(maxRelError(fwd.gpu.y as Float32Array, fwd.cpu.y as Float32Array)).toBe(0);

      const outSize = s.batch * Math.floor(s.length / s.pool) * s.channels;
      const dy = randomArray(outSize, s.batch + 7);
      const bwd = await runBoth(maxPool1dBackwardKernel(s), { dy, argmax: fwd.cpu.argmax as Uint32Array });
      expect(bits(bwd.gpu.dx as Float32Array)).toEqual(bits(bwd.cpu.dx as Float32Array));
    });
  }
});

describe('maxpool1d on ties', () => {
  it('picks the first maximum of a window', async () => {
    const s = { batch: 1, length: 11, channels: 1, pool: 5 };
    const x = Float32Array.from([3, 7, 7, 1, 7, -2, -2, -2, -2, -2, 9]);
    const r = await runBoth(maxPool1dForwardKernel(s), { x });
    for (const side of [r.gpu, r.cpu]) {
      expect(Array.from(side.y as Float32Array)).toEqual([7, -2]);
      expect(Array.from(side.argmax as Uint32Array)).toEqual([1, 5]);
    }
  });

  it('agrees bit for bit on argmax when most windows hold ties (and -0 against 0)', async () => {
    const s = { batch: 5, length: 91, channels: 37, pool: 5 };
    const r0 = rng(99);
    const values = [-1, -0, 0, 1, 2];
    const x = new Float32Array(s.batch * s.length * s.channels);
    for (let i = 0; i < x.length; i++) x[i] = values[Math.floor(r0() * values.length)] as number;
    const r = await runBoth(maxPool1dForwardKernel(s), { x });
    expect(r.gpu.argmax).toEqual(r.cpu.argmax);
    expect(bits(r.gpu.y as Float32Array)).toEqual(bits(r.cpu.y as Float32Array));
    // And both are the first maximum, found independently here.
    const argmax = r.gpu.argmax as Uint32Array;
    const outLength = Math.floor(s.length / s.pool);
    let ties = 0;
    for (let b = 0; b < s.batch; b++) {
      for (let o = 0; o < outLength; o++) {
        for (let c = 0; c < s.channels; c++) {
          const window = Array.from({ length: s.pool }, (_, p) => x[(b * s.length + o * s.pool + p) * s.channels + c] as number);
          const best = Math.max(...window);
          const first = window.findIndex((v) => v === best);
          if (window.filter((v) => v === best).length > 1) ties++;
          expect(argmax[(b * outLength + o) * s.channels + c]).toBe(o * s.pool + first);
        }
      }
    }
    expect(ties).toBeGreaterThan(100);
  });
});

describe('maxpool1d backward', () => {
  it('writes every dx element: zeros off the argmax and in the dropped tail', async () => {
    const s = { batch: 2, length: 13, channels: 3, pool: 4 };
    const x = randomArray(s.batch * s.length * s.channels, 5);
    const fwd = await runBoth(maxPool1dForwardKernel(s), { x });
    const dy = new Float32Array(s.batch * 3 * s.channels).fill(1);
    const bwd = await runBoth(maxPool1dBackwardKernel(s), { dy, argmax: fwd.cpu.argmax as Uint32Array });
    const dx = bwd.gpu.dx as Float32Array;
    expect(dx.every((v) => v === 0 || v === 1)).toBe(true);
    // One 1 per window; position 12 of each row (the tail) gets nothing.
    expect(dx.reduce((a, v) => a + v, 0)).toBe(s.batch * 3 * s.channels);
    for (let b = 0; b < s.batch; b++) {
      for (let c = 0; c < s.channels; c++) expect(dx[(b * s.length + 12) * s.channels + c]).toBe(0);
    }
  });

  it('matches float64 central finite differences', () => {
    const s = { batch: 2, length: 23, channels: 3, pool: 5 };
    // Random values are distinct, so every window has a unique maximum (a tie
    // makes the max non-differentiable) and the h = 1e-6 probes never reorder it.
    const x = randomArray(s.batch * s.length * s.channels, 11);
    const w = randomArray(s.batch * 4 * s.channels, 12);
    const loss = (inp: Record<string, Float64Array>): number =>
      dot(w, runCpu64(maxPool1dForwardKernel(s), { x: inp.x as Float64Array }).y as Float64Array);
    const argmax = runCpu64(maxPool1dForwardKernel(s), { x }).argmax as Uint32Array;
    const dx = runCpu64(maxPool1dBackwardKernel(s), { dy: w, argmax }).dx as Float64Array;
    expect(finiteDifferenceError(loss, { x }, 'x', dx)).toBeLessThanOrEqual(1e-6);
  });
});

describe('maxpool1d rejects bad parameters', () => {
  it('names the kernel and the bad size', () => {
    expect(() => maxPool1dForwardKernel({ batch: 2, length: 10, channels: 3, pool: 0 })).toThrow(
      'maxpool1d.forward[pool=0]: pool must be a positive integer, got 0',
    );
    expect(() => maxPool1dBackwardKernel({ batch: 2, length: 10, channels: 2.5, pool: 2 })).toThrow(
      'maxpool1d.backward[pool=2]: channels must be a positive integer, got 2.5',
    );
    expect(() => maxPool1dForwardKernel({ batch: 0, length: 10, channels: 3, pool: 2 })).toThrow(
      'maxpool1d.forward[pool=2]: batch must be a positive integer, got 0',
    );
  });

  it('rejects a length shorter than the window', () => {
    expect(() => maxPool1dForwardKernel({ batch: 1, length: 4, channels: 3, pool: 5 })).toThrow(
      'maxpool1d.forward[pool=5]: length 4 is shorter than the pool window 5',
    );
  });

  it('a plan rejects a wrong-shaped or wrong-typed tensor, naming it and both shapes', () => {
    const plan = new Plan();
    plan.tensor('conv_out', [2, 90, 3]);
    plan.tensor('pooled', [2, 18, 3]);
    plan.tensor('where', [2, 18, 3], 'u32');
    plan.tensor('where_f32', [2, 18, 3]);
    const s = { batch: 2, length: 91, channels: 3, pool: 5 };
    expect(() => plan.call(maxPool1dForwardKernel(s), { x: 'conv_out', y: 'pooled', argmax: 'where' })).toThrow(
      'maxpool1d.forward[pool=5]: tensor "conv_out" (slot "x") has shape [2, 90, 3], the kernel expects [2, 91, 3]',
    );
    plan.tensor('d_conv', [2, 91, 3]);
    expect(() => plan.call(maxPool1dBackwardKernel(s), { dy: 'pooled', argmax: 'where_f32', dx: 'd_conv' })).toThrow(
      'maxpool1d.backward[pool=5]: tensor "where_f32" (slot "argmax") is f32, the kernel expects u32',
    );
  });
});
