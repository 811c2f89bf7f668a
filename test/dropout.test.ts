import { describe, expect, it } from 'vitest';
import { dropoutBackwardKernel, dropoutForwardKernel } from '../src/kernels/dropout.ts';
import { Plan } from '../src/plan/plan.ts';
import { AWKWARD, dot, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

function keptFraction(mask: Uint32Array): number {
  let kept = 0;
  for (const m of mask) kept += m;
  return kept / mask.length;
}

describe('dropout, GPU against CPU', () => {
  for (const p of [0.1, 0.5]) {
    for (const n of [...AWKWARD, 100_003]) {
      it(`p=${p} n=${n}`, async () => {
        const x = randomArray(n, n + 1, -3, 3);
        const step = n % 11;
        const fwd = await runBoth(dropoutForwardKernel({ n, p, seed: 42 }), { x, step: [step] });
        const mask = fwd.cpu.mask as Uint32Array;
        expect([...(fwd.gpu.mask as Uint32Array)]).toEqual([...mask]);
        expect(mask.every((m) => m === 0 || m === 1)).toBe(true);
        expect(maxRelError(fwd.gpu.y as Float32Array, fwd.cpu.y as Float32Array)).toBeLessThanOrEqual(1e-4);
        // y = x·mask/(1 - p) exactly, with 1/(1 - p) rounded to f32 once.
        const y = fwd.cpu.y as Float32Array;
        const scale = Math.fround(1 / (1 - p));
        expect(y.filter((v, i) => v !== Math.fround((x[i] as number) * (mask[i] as number) * scale)).length).toBe(0);

        const dy = randomArray(n, n + 2);
        const bwd = await runBoth(dropoutBackwardKernel({ n, p }), { dy, mask });
        expect(maxRelError(bwd.gpu.dx as Float32Array, bwd.cpu.dx as Float32Array)).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  it('p = 0 keeps everything and leaves x unchanged', async () => {
    const n = 129;
    const x = randomArray(n, 3);
    const r = await runBoth(dropoutForwardKernel({ n, p: 0, seed: 1 }), { x, step: [0] });
    expect([...(r.gpu.mask as Uint32Array)]).toEqual(new Array<number>(n).fill(1));
    expect([...(r.gpu.y as Float32Array)]).toEqual([...x]);
  });
});

describe('dropout masks, statistics', () => {
  const n = 100_000;
  for (const p of [0.05, 0.3, 0.9]) {
    it(`keep rate at p=${p} is 1 - p within five standard errors`, () => {
      const mask = runCpu64(dropoutForwardKernel({ n, p, seed: 7 }), { x: new Float32Array(n), step: [3] }).mask as Uint32Array;
      expect(Math.abs(keptFraction(mask) - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    });
  }

  it('different steps and seeds give independent masks', () => {
    const p = 0.5;
    const mask = (seed: number, step: number): Uint32Array =>
      runCpu64(dropoutForwardKernel({ n, p, seed }), { x: new Float32Array(n), step: [step] }).mask as Uint32Array;
    const base = mask(7, 3);
    expect([...mask(7, 3)]).toEqual([...base]);
    for (const other of [mask(7, 4), mask(8, 3)]) {
      let agree = 0;
      for (let i = 0; i < n; i++) if (other[i] === base[i]) agree++;
      // Independent masks agree with probability p² + (1 - p)² = 1/2.
      expect(Math.abs(agree / n - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / n));
    }
  });
});

describe('dropout backward against float64 finite differences (mask held fixed)', () => {
  for (const p of [0.2, 0.7]) {
    it(`p=${p}`, () => {
      const n = 129;
      const fwd = dropoutForwardKernel({ n, p, seed: 5 });
      const inputs = { x: randomArray(n, 8), step: [2] };
      const w = randomArray(n, 9);
      const loss = (inp: Record<string, Float64Array>): number => dot(w, runCpu64(fwd, inp).y as Float64Array);
      const mask = runCpu64(fwd, inputs).mask as Uint32Array;
      const dx = runCpu64(dropoutBackwardKernel({ n, p }), { dy: w, mask }).dx as Float64Array;
      expect(finiteDifferenceError(loss, inputs, 'x', dx)).toBeLessThanOrEqual(1e-6);
    });
  }
});

describe('dropout rejects bad parameters', () => {
  it('p must be in [0, 1)', () => {
    expect(() => dropoutForwardKernel({ n: 4, p: 1, seed: 0 })).toThrow('dropout.forward(p=1): p must be in [0, 1), got 1');
    expect(() => dropoutForwardKernel({ n: 4, p: -0.1, seed: 0 })).toThrow(
      'dropout.forward(p=-0.1): p must be in [0, 1), got -0.1',
    );
    expect(() => dropoutForwardKernel({ n: 4, p: Number.NaN, seed: 0 })).toThrow(
      'dropout.forward(p=NaN): p must be in [0, 1), got NaN',
    );
    expect(() => dropoutBackwardKernel({ n: 4, p: 1.5 })).toThrow('dropout.backward(p=1.5): p must be in [0, 1), got 1.5');
  });

  it('sizes and seed', () => {
    expect(() => dropoutForwardKernel({ n: 0, p: 0.5, seed: 0 })).toThrow(
      'dropout.forward(p=0.5): n must be a positive integer, got 0',
    );
    expect(() => dropoutBackwardKernel({ n: -2, p: 0.5 })).toThrow('dropout.backward(p=0.5): n must be a positive integer, got -2');
    expect(() => dropoutForwardKernel({ n: 4, p: 0.5, seed: 2 ** 32 })).toThrow(
      'dropout.forward(p=0.5): seed must be an integer in [0, 2^32), got 4294967296',
    );
  });

  it('a plan rejects a wrong-shaped or wrong-typed tensor, naming it and both shapes', () => {
    const plan = new Plan();
    plan.tensor('h', [37]);
    plan.tensor('step', [1], 'u32');
    plan.tensor('keep', [37], 'u32');
    plan.tensor('keepF', [37], 'f32');
    plan.tensor('out', [38]);
    const k = dropoutForwardKernel({ n: 37, p: 0.5, seed: 1 });
    expect(() => plan.call(k, { x: 'h', step: 'step', mask: 'keep', y: 'out' })).toThrow(
      'dropout.forward(p=0.5): tensor "out" (slot "y") has shape [38], the kernel expects [37]',
    );
    expect(() => plan.call(k, { x: 'h', step: 'step', mask: 'keepF', y: 'h' })).toThrow(
      'dropout.forward(p=0.5): tensor "keepF" (slot "mask") is f32, the kernel expects u32',
    );
  });
});
