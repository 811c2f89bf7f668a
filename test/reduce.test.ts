import { describe, expect, it } from 'vitest';
import {
  fillKernel,
  sumAllKernel,
  sumAllTiling,
  sumRowsKernel,
  sumRowsTiling,
  zeroKernel,
} from '../src/kernels/reduce.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { getGpu, maxRelError, randomArray, runBoth } from './helpers.ts';

// Inputs lean positive ([-0.25, 1]) so that no sum cancels to near zero,
// where a relative error would measure luck instead of the summation.
const LO = -0.25;

const ROWS_COLS: readonly (readonly [number, number])[] = [
  [1, 1],
  [1, 37],
  [37, 1],
  [37, 37],
  [129, 129],
  [1, 6400],
  [37, 6400],
  [129, 6400],
  [6400, 1],
  [6400, 37],
  [6400, 129],
  [100_003, 1],
  [100_003, 3],
];

describe('sumRows, GPU against CPU', () => {
  for (const [rows, cols] of ROWS_COLS) {
    it(`rows=${rows} cols=${cols}`, async () => {
      const x = randomArray(rows * cols, rows + cols, LO, 1);
      const r = await runBoth(sumRowsKernel({ rows, cols }), { x });
      expect(maxRelError(r.gpu.out as Float32Array, r.cpu.out as Float32Array)).toBeLessThanOrEqual(1e-4);
    });
  }

  it('exercises both the one-pass and the two-pass paths', () => {
    expect(sumRowsTiling(37, 37).chunks).toBe(1);
    expect(sumRowsTiling(37, 6400).chunks).toBe(1);
    expect(sumRowsTiling(129, 6400).chunks).toBeGreaterThan(1);
    expect(sumRowsTiling(6400, 1).chunks).toBeGreaterThan(1);
    expect(sumRowsTiling(6400, 129).chunks).toBeGreaterThan(1);
    expect(sumRowsTiling(100_003, 3).chunks).toBeGreaterThan(1);
  });

  for (const [rows, cols] of [
    [37, 129],
    [6400, 37],
  ] as const) {
    it(`accumulate adds into preloaded values (rows=${rows} cols=${cols})`, async () => {
      const x = randomArray(rows * cols, 3, LO, 1);
      const before = randomArray(cols, 4, 5, 10);
      const r = await runBoth(sumRowsKernel({ rows, cols, accumulate: true }), { x, out: before });
      const plain = await runBoth(sumRowsKernel({ rows, cols }), { x });
      expect(maxRelError(r.gpu.out as Float32Array, r.cpu.out as Float32Array)).toBeLessThanOrEqual(1e-4);
      const expected = Array.from(before, (b, i) => b + ((plain.cpu.out as Float32Array)[i] as number));
      expect(maxRelError(r.gpu.out as Float32Array, expected)).toBeLessThanOrEqual(1e-4);
    });
  }

  it('gives the same bits on every run', async () => {
    const rows = 6400;
    const cols = 37;
    const x = randomArray(rows * cols, 8, -1, 1);
    const a = await runBoth(sumRowsKernel({ rows, cols }), { x });
    const b = await runBoth(sumRowsKernel({ rows, cols }), { x });
    expect(a.gpu.out).toEqual(b.gpu.out);
  });
});

describe('sumAll, GPU against CPU', () => {
  for (const n of [1, 37, 129, 4096, 4097, 6400, 100_003, 300_007]) {
    it(`n=${n}`, async () => {
      const x = randomArray(n, n, LO, 1);
      const r = await runBoth(sumAllKernel({ n }), { x });
      expect(maxRelError(r.gpu.out as Float32Array, r.cpu.out as Float32Array)).toBeLessThanOrEqual(1e-4);
    });
  }

  it('exercises both the one-pass and the two-pass paths', () => {
    expect(sumAllTiling(4096).groups).toBe(1);
    expect(sumAllTiling(4097).groups).toBe(2);
    expect(sumAllTiling(300_007).groups).toBeGreaterThan(50);
  });

  for (const n of [129, 100_003]) {
    it(`scale and accumulate into a preloaded out (n=${n})`, async () => {
      const x = randomArray(n, 5, LO, 1);
      const plain = await runBoth(sumAllKernel({ n }), { x });
      const sum = (plain.cpu.out as Float32Array)[0] as number;
      const scaled = await runBoth(sumAllKernel({ n, scale: 1 / n }), { x });
      expect(maxRelError(scaled.gpu.out as Float32Array, [sum / n])).toBeLessThanOrEqual(1e-4);
      const acc = await runBoth(sumAllKernel({ n, scale: -0.5, accumulate: true }), { x, out: [1000] });
      expect(maxRelError(acc.gpu.out as Float32Array, acc.cpu.out as Float32Array)).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(acc.gpu.out as Float32Array, [1000 - 0.5 * sum])).toBeLessThanOrEqual(1e-4);
    });
  }

  it('accumulates across repetitions recorded into one submit', async () => {
    const n = 6400;
    const plan = new Plan();
    plan.tensor('x', [n]);
    plan.tensor('total', [1]);
    plan.call(sumAllKernel({ n, accumulate: true }), { x: 'x', out: 'total' });
    const gpu = await GpuExecutor.create(await getGpu(), plan);
    const cpu = new CpuExecutor(plan);
    try {
      const x = randomArray(n, 6, LO, 1);
      for (const exec of [gpu, cpu]) {
        exec.write('x', x);
        exec.write('total', [2]);
      }
      await gpu.run(4);
      for (let i = 0; i < 4; i++) cpu.run();
      const once = x.reduce((a, v) => a + v, 0);
      const g = await gpu.read('total');
      expect(maxRelError(g, cpu.read('total'))).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(g, [2 + 4 * once])).toBeLessThanOrEqual(1e-4);
      expect(gpu.stats.submits).toBe(1);
    } finally {
      gpu.destroy();
    }
  });

  it('gives the same bits on every run', async () => {
    const n = 100_003;
    const x = randomArray(n, 9, -1, 1);
    const a = await runBoth(sumAllKernel({ n }), { x });
    const b = await runBoth(sumAllKernel({ n }), { x });
    expect(a.gpu.out).toEqual(b.gpu.out);
  });
});

describe('fill', () => {
  for (const n of [1, 37, 70_001]) {
    it(`f32 and u32, n=${n}`, async () => {
      const f = await runBoth(fillKernel({ n, value: -2.5 }), {});
      expect((f.gpu.out as Float32Array).every((v) => v === -2.5)).toBe(true);
      expect(f.gpu.out).toEqual(f.cpu.out);
      const u = await runBoth(fillKernel({ n, value: 7, dtype: 'u32' }), {});
      expect((u.gpu.out as Uint32Array).every((v) => v === 7)).toBe(true);
      expect(u.gpu.out).toEqual(u.cpu.out);
    });
  }

  it('resets an accumulator inside a plan, before the sums that add into it', async () => {
    const n = 37;
    const plan = new Plan();
    plan.tensor('x', [n]);
    plan.tensor('total', [1]);
    plan.call(zeroKernel({ n: 1 }), { out: 'total' });
    plan.call(sumAllKernel({ n, accumulate: true }), { x: 'x', out: 'total' });
    plan.call(sumAllKernel({ n, accumulate: true }), { x: 'x', out: 'total' });
    const gpu = await GpuExecutor.create(await getGpu(), plan);
    try {
      const x = randomArray(n, 10, LO, 1);
      gpu.write('x', x);
      gpu.write('total', [Number.NaN]);
      await gpu.run(3);
      const once = x.reduce((a, v) => a + v, 0);
      expect(maxRelError(await gpu.read('total'), [2 * once])).toBeLessThanOrEqual(1e-4);
    } finally {
      gpu.destroy();
    }
  });

  it('zero overwrites whatever was there', async () => {
    const z = await runBoth(zeroKernel({ n: 129, dtype: 'u32' }), { out: new Array<number>(129).fill(5) });
    expect(Array.from(z.gpu.out as Uint32Array)).toEqual(new Array<number>(129).fill(0));
    expect(z.gpu.out).toEqual(z.cpu.out);
  });
});

describe('reductions reject bad parameters', () => {
  it('sizes', () => {
    expect(() => sumRowsKernel({ rows: 0, cols: 3 })).toThrow('reduce.sumRows: rows must be a positive integer, got 0');
    expect(() => sumRowsKernel({ rows: 3, cols: 1.5, accumulate: true })).toThrow(
      'reduce.sumRows[accumulate]: cols must be a positive integer, got 1.5',
    );
    expect(() => sumAllKernel({ n: -1 })).toThrow('reduce.sumAll: n must be a positive integer, got -1');
    expect(() => fillKernel({ n: 0, value: 1 })).toThrow('reduce.fill[f32]: n must be a positive integer, got 0');
    expect(() => sumRowsKernel({ rows: 70_000, cols: 70_000 })).toThrow(
      'reduce.sumRows: 70000 x 70000 is more than 2^31 elements',
    );
  });

  it('values', () => {
    expect(() => sumAllKernel({ n: 3, scale: Number.NaN })).toThrow('reduce.sumAll: scale must be a finite number, got NaN');
    expect(() => fillKernel({ n: 3, value: Number.POSITIVE_INFINITY })).toThrow(
      'reduce.fill[f32]: value must be a finite f32, got Infinity',
    );
    expect(() => fillKernel({ n: 3, value: 1e39 })).toThrow('reduce.fill[f32]: value must be a finite f32, got 1e+39');
    expect(() => fillKernel({ n: 3, value: -1, dtype: 'u32' })).toThrow(
      'reduce.fill[u32]: value must be an integer in [0, 4294967295], got -1',
    );
  });

  it('a plan rejects a wrong-shaped tensor, naming it and both shapes', () => {
    const plan = new Plan();
    plan.tensor('dy', [64, 10]);
    plan.tensor('db', [64]);
    expect(() => plan.call(sumRowsKernel({ rows: 64, cols: 10 }), { x: 'dy', out: 'db' })).toThrow(
      'reduce.sumRows: tensor "db" (slot "out") has shape [64], the kernel expects [10]',
    );
    plan.tensor('losses', [64]);
    plan.tensor('epoch_loss', [2]);
    expect(() => plan.call(sumAllKernel({ n: 64, accumulate: true }), { x: 'losses', out: 'epoch_loss' })).toThrow(
      'reduce.sumAll[accumulate]: tensor "epoch_loss" (slot "out") has shape [2], the kernel expects [1]',
    );
  });
});
