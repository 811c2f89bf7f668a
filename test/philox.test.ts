import { describe, expect, it } from 'vitest';
import { type Block, STREAM_NORMAL, boxMuller, normalFill, philox4x32_10, philoxBlock } from '../src/cpu/philox.ts';
import { normalKernel, philoxKernel } from '../src/kernels/rng.ts';
import { Plan } from '../src/plan/plan.ts';
import { AWKWARD, rng, runBoth } from './helpers.ts';

// Random123's published known answers for philox4x32-10 (kat_vectors).
const KNOWN_ANSWERS: readonly { counter: Block; key: readonly [number, number]; out: Block }[] = [
  { counter: [0, 0, 0, 0], key: [0, 0], out: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    out: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    out: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

async function gpuNormals(n: number, seed: number, step: number): Promise<{ gpu: Float32Array; cpu: Float32Array }> {
  const r = await runBoth(normalKernel({ n, seed }), { step: [step] });
  return { gpu: r.gpu.eps as Float32Array, cpu: r.cpu.eps as Float32Array };
}

function cpuNormals(n: number, seed: number, step: number): Float32Array {
  const eps = new Float32Array(n);
  normalFill(seed, step, eps);
  return eps;
}

/** Index of the first element whose f32 bits differ, or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

describe('Philox4x32-10 known answers', () => {
  it('CPU reproduces the published vectors', () => {
    for (const { counter, key, out } of KNOWN_ANSWERS) expect(philox4x32_10(counter, key)).toEqual(out);
  });

  it('GPU reproduces the published vectors', async () => {
    const counters = KNOWN_ANSWERS.flatMap((k) => [...k.counter]);
    const keys = KNOWN_ANSWERS.flatMap((k) => [...k.key]);
    const r = await runBoth(philoxKernel({ rows: KNOWN_ANSWERS.length }), { counters, keys });
    expect([...(r.gpu.blocks as Uint32Array)]).toEqual(KNOWN_ANSWERS.flatMap((k) => [...k.out]));
    expect([...(r.cpu.blocks as Uint32Array)]).toEqual(KNOWN_ANSWERS.flatMap((k) => [...k.out]));
  });

  for (const rows of AWKWARD) {
    it(`GPU equals CPU on ${rows} random counters and keys`, async () => {
      const r32 = rng(rows);
      const word = (): number => Math.floor(r32() * 2 ** 32);
      const counters = Array.from({ length: rows * 4 }, word);
      const keys = Array.from({ length: rows * 2 }, word);
      const r = await runBoth(philoxKernel({ rows }), { counters, keys });
      expect([...(r.gpu.blocks as Uint32Array)]).toEqual([...(r.cpu.blocks as Uint32Array)]);
    });
  }
});

describe('standard normals, bit for bit on GPU and CPU', () => {
  const cases = [
    { seed: 0, step: 0 },
    { seed: 12345, step: 7 },
    { seed: 0xffffffff, step: 0xfffffffe },
  ];
  for (const { seed, step } of cases) {
    it(`100003 draws at seed=${seed} step=${step}`, async () => {
      const { gpu, cpu } = await gpuNormals(100_003, seed, step);
      expect(firstBitDifference(gpu, cpu)).toBe(-1);
    });
  }

  for (const n of AWKWARD) {
    it(`n=${n}: every element written, same bits, and a prefix of longer draws`, async () => {
      const { gpu, cpu } = await gpuNormals(n, 99, 3);
      expect(gpu.every(Number.isFinite)).toBe(true);
      expect(firstBitDifference(gpu, cpu)).toBe(-1);
      // Element i depends only on (seed, step, i), not on how many are drawn.
      expect(firstBitDifference(cpu, cpuNormals(n + 5, 99, 3).subarray(0, n))).toBe(-1);
    });
  }
});

describe('integer Box–Muller against the real-number formula', () => {
  function reference(x: number, w: number): [number, number] {
    const u = (x + 1) / 2 ** 32;
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = (2 * Math.PI * w) / 2 ** 32;
    return [r * Math.cos(theta), r * Math.sin(theta)];
  }
  function worstError(pairs: Iterable<readonly [number, number]>): number {
    let worst = 0;
    for (const [x, w] of pairs) {
      const got = boxMuller(x, w);
      const want = reference(x, w);
      worst = Math.max(worst, Math.abs(got[0] - want[0]), Math.abs(got[1] - want[1]));
    }
    return worst;
  }

  it('within 1e-6 on 1e5 Philox words', () => {
    const pairs: [number, number][] = [];
    for (let g = 0; g < 25_000; g++) {
      const b = philoxBlock(5, STREAM_NORMAL, 0, g);
      pairs.push([b[0], b[1]], [b[2], b[3]]);
    }
    expect(worstError(pairs)).toBeLessThanOrEqual(1e-6);
  });

  it('within 1e-6 at the edges: u = 2^-32, u = 1, the series/log switch, octant boundaries', () => {
    const radii = [0, 1, 2, 0x7fffffff, 0x80000000, 0xfeffffff, 0xff000000, 0xff000001, 0xfffffffe, 0xffffffff];
    for (let x = 0xfefff000; x < 0xff001000; x += 37) radii.push(x);
    const angles: number[] = [0xffffffff];
    for (let o = 0; o < 8; o++) angles.push(o * 0x20000000, o * 0x20000000 + 1, o * 0x20000000 + 0x1fffffff);
    const pairs: [number, number][] = [];
    for (const x of radii) for (const w of angles) pairs.push([x, w]);
    expect(worstError(pairs)).toBeLessThanOrEqual(1e-6);
    // u = 1 exactly gives r = 0, an exact zero rather than a tiny residue.
    expect(boxMuller(0xffffffff, 0x12345678)).toEqual([0, 0]);
    // The largest radius, sqrt(64 ln 2), at angle 0.
    expect(boxMuller(0, 0)[0]).toBeCloseTo(Math.sqrt(64 * Math.LN2), 6);
  });
});

describe('standard normals, statistics of 1e5 draws', () => {
  const n = 100_000;
  for (const [seed, step] of [
    [1, 0],
    [2024, 17],
  ] as const) {
    it(`seed=${seed} step=${step}: mean, variance, tails, symmetry`, () => {
      const eps = cpuNormals(n, seed, step);
      let sum = 0;
      let sumSq = 0;
      let beyond2 = 0;
      let beyond3 = 0;
      let negative = 0;
      for (const e of eps) {
        sum += e;
        sumSq += e * e;
        if (Math.abs(e) > 2) beyond2++;
        if (Math.abs(e) > 3) beyond3++;
        if (e < 0) negative++;
      }
      const mean = sum / n;
      const variance = sumSq / n - mean * mean;
      // Five standard errors: a correct generator fails with odds below 1e-6.
      expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
      expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
      const p2 = 0.0455003;
      expect(Math.abs(beyond2 / n - p2)).toBeLessThan(5 * Math.sqrt((p2 * (1 - p2)) / n));
      const p3 = 0.0026998;
      expect(Math.abs(beyond3 / n - p3)).toBeLessThan(5 * Math.sqrt((p3 * (1 - p3)) / n));
      expect(Math.abs(negative / n - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / n));
    });
  }

  it('neighbouring elements are uncorrelated (including the two halves of a Box–Muller pair)', () => {
    const eps = cpuNormals(n, 3, 1);
    for (const lag of [1, 2, 3, 4]) {
      let c = 0;
      for (let i = 0; i + lag < n; i++) c += (eps[i] as number) * (eps[i + lag] as number);
      expect(Math.abs(c / (n - lag))).toBeLessThan(5 / Math.sqrt(n));
    }
  });

  it('different steps and seeds give different, uncorrelated streams', () => {
    const m = 20_000;
    const base = cpuNormals(m, 11, 5);
    for (const other of [cpuNormals(m, 11, 6), cpuNormals(m, 12, 5), cpuNormals(m, 11, 5 + 2 ** 16)]) {
      let equal = 0;
      let c = 0;
      for (let i = 0; i < m; i++) {
        if (base[i] === other[i]) equal++;
        c += (base[i] as number) * (other[i] as number);
      }
      expect(equal).toBeLessThan(5);
      expect(Math.abs(c / m)).toBeLessThan(5 / Math.sqrt(m));
    }
  });
});

describe('rng kernels reject bad parameters', () => {
  it('seed must be a u32', () => {
    expect(() => normalKernel({ n: 4, seed: -1 })).toThrow('rng.normal: seed must be an integer in [0, 2^32), got -1');
    expect(() => normalKernel({ n: 4, seed: 2 ** 32 })).toThrow(
      'rng.normal: seed must be an integer in [0, 2^32), got 4294967296',
    );
    expect(() => normalKernel({ n: 4, seed: 0.5 })).toThrow('rng.normal: seed must be an integer in [0, 2^32), got 0.5');
  });

  it('sizes must be positive integers within the index range', () => {
    expect(() => normalKernel({ n: 0, seed: 1 })).toThrow('rng.normal: n must be a positive integer, got 0');
    expect(() => normalKernel({ n: 2 ** 30 + 1, seed: 1 })).toThrow('rng.normal: n must be at most 2^30, got 1073741825');
    expect(() => philoxKernel({ rows: 2.5 })).toThrow('rng.philox: rows must be a positive integer, got 2.5');
  });

  it('a plan rejects a wrong-shaped or wrong-typed tensor, naming it and both shapes', () => {
    const plan = new Plan();
    plan.tensor('noise', [10]);
    plan.tensor('step', [1], 'u32');
    plan.tensor('stepF', [1], 'f32');
    expect(() => plan.call(normalKernel({ n: 12, seed: 1 }), { step: 'step', eps: 'noise' })).toThrow(
      'rng.normal: tensor "noise" (slot "eps") has shape [10], the kernel expects [12]',
    );
    plan.tensor('noise12', [12]);
    expect(() => plan.call(normalKernel({ n: 12, seed: 1 }), { step: 'stepF', eps: 'noise12' })).toThrow(
      'rng.normal: tensor "stepF" (slot "step") is f32, the kernel expects u32',
    );
  });
});
