import { describe, expect, it } from 'vitest';
import type { Activation } from '../src/cpu/activation.ts';
import { forcedTarget } from '../src/kernels/gemm.ts';
import { GEMM_VARIANTS } from '../src/kernels/gpuTarget.ts';
import type { Kernel } from '../src/kernels/kernel.ts';
import { bindMatmulGradient, matmulBackwardKernels, matmulKernel } from '../src/kernels/matmul.ts';
import { Plan } from '../src/plan/plan.ts';
import { dot, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

const TRANSPOSES = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
] as const;

function label(t: { transA: boolean; transB: boolean }): string {
  return `${t.transA ? 'Aᵀ' : 'A'}·${t.transB ? 'Bᵀ' : 'B'}`;
}

// M, N, K drawn from {1, 37, 129} so that each is once a lone row/column, once
// inside one tile and once across tiles; then sizes crossing 64-wide tile
// borders on every side, and one of the size of a real layer.
const SIZES: readonly (readonly [number, number, number])[] = [
  [1, 37, 129],
  [37, 129, 1],
  [129, 1, 37],
  [37, 37, 37],
  [129, 129, 129],
  [65, 130, 67],
  [200, 300, 150],
];

/** The product written out plainly, independent of the twin's index helpers. */
function naiveProduct(
  M: number,
  N: number,
  K: number,
  opA: (row: number, k: number) => number,
  opB: (k: number, col: number) => number,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += opA(i, k) * opB(k, j);
      c[i * N + j] = s;
    }
  }
  return c;
}

describe('matmul, GPU against CPU', () => {
  for (const t of TRANSPOSES) {
    for (const [M, N, K] of SIZES) {
      it(`${label(t)} M=${M} N=${N} K=${K}`, async () => {
        const seed = M * 1_000_003 + N * 1_009 + K + (t.transA ? 7 : 0) + (t.transB ? 13 : 0);
        const a = randomArray(M * K, seed);
        const b = randomArray(K * N, seed + 1);
        const r = await runBoth(matmulKernel({ M, N, K, ...t }), { a, b });
        expect(maxRelError(r.gpu.c as Float32Array, r.cpu.c as Float32Array)).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  const ACTIVATIONS: readonly Activation[] = [
    { kind: 'none' },
    { kind: 'relu' },
    { kind: 'leaky_relu', alpha: 0.1 },
    { kind: 'tanh' },
    { kind: 'sigmoid' },
    { kind: 'softplus' },
  ];
  ACTIVATIONS.forEach((activation, n) => {
    // Cycle through the transposes so each epilogue also meets another layout.
    const t = TRANSPOSES[n % TRANSPOSES.length] as (typeof TRANSPOSES)[number];
    const [M, N, K] = [37, 129, 65];
    it(`bias + ${activation.kind}, ${label(t)} M=${M} N=${N} K=${K}`, async () => {
      const a = randomArray(M * K, 100 + n);
      const b = randomArray(K * N, 200 + n);
      const bias = randomArray(N, 300 + n, -2, 2);
      const r = await runBoth(matmulKernel({ M, N, K, ...t, bias: true, activation }), { a, b, bias });
      expect(maxRelError(r.gpu.c as Float32Array, r.cpu.c as Float32Array)).toBeLessThanOrEqual(1e-4);
      expect(r.gpu.bias).toEqual(bias);
    });
  });

  it('activation without bias', async () => {
    const [M, N, K] = [33, 17, 20];
    const a = randomArray(M * K, 11);
    const b = randomArray(K * N, 12);
    const r = await runBoth(matmulKernel({ M, N, K, activation: { kind: 'tanh' } }), { a, b });
    expect(maxRelError(r.gpu.c as Float32Array, r.cpu.c as Float32Array)).toBeLessThanOrEqual(1e-4);
  });
});

// Every variant of the GEMM core on the shapes that reach its edges: lone rows
// and columns, depths of 1 and not a multiple of 4, sizes on both sides of
// each block and of the 64-wide tiles, the vec4 paths (K or N a multiple of 4)
// and the strided ones, with each epilogue.
const VARIANT_SIZES: readonly (readonly [number, number, number])[] = [
  [1, 37, 129],
  [37, 129, 1],
  [129, 1, 37],
  [65, 132, 68],
  [9, 10, 2052],
];

describe('every GEMM variant of matmul, GPU against CPU', () => {
  for (const variant of GEMM_VARIANTS) {
    it(`${variant}: every layout and size`, async () => {
      const target = forcedTarget(variant);
      for (const t of TRANSPOSES) {
        for (const [M, N, K] of VARIANT_SIZES) {
          const a = randomArray(M * K, M + 7 * N + K);
          const b = randomArray(K * N, M + 11 * N + K);
          const r = await runBoth(matmulKernel({ M, N, K, ...t }), { a, b }, target);
          expect(maxRelError(r.gpu.c as Float32Array, r.cpu.c as Float32Array), `${label(t)} ${M}x${N}x${K}`).toBeLessThanOrEqual(1e-4);
        }
      }
    });
    it(`${variant}: bias + activation, accumulate, gates and the bias-gradient row`, async () => {
      const target = forcedTarget(variant);
      const [M, N, K] = [37, 68, 129];
      const a = randomArray(M * K, 61);
      const b = randomArray(K * N, 62);
      const bias = randomArray(N, 63);
      const c0 = randomArray(M * N, 64);
      const check = async (kernel: Kernel, inputs: Record<string, ArrayLike<number>>, slots: readonly string[]): Promise<void> => {
        const r = await runBoth(kernel, inputs, target);
        for (const s of slots) expect(maxRelError(r.gpu[s] as Float32Array, r.cpu[s] as Float32Array), `${kernel.name} ${s}`).toBeLessThanOrEqual(1e-4);
      };
      await check(matmulKernel({ M, N, K, bias: true, activation: { kind: 'leaky_relu', alpha: 0.5 } }), { a, b, bias }, ['c']);
      await check(matmulKernel({ M, N, K, transB: true, accumulate: true }), { a, b, c: c0 }, ['c']);
      const leaky = { kind: 'leaky_relu', alpha: 0.5 } as const;
      await check(matmulKernel({ M, N, K, gate: 'A', activation: leaky }), { a, b, gate: randomArray(M * K, 65) }, ['c']);
      await check(matmulKernel({ M, N, K, transB: true, gate: 'B', activation: { kind: 'tanh' } }), { a, b, gate: randomArray(N * K, 66) }, ['c']);
      await check(matmulKernel({ M, N, K, transA: true, biasGrad: true }), { a, b }, ['c', 'db']);
      await check(matmulKernel({ M, N, K, transA: true, biasGrad: true, gate: 'B', activation: leaky }), { a, b, gate: randomArray(K * N, 67) }, ['c', 'db']);
    });
  }
});

describe('dense-layer fusions: gated operands and the bias-gradient row', () => {
  it('db is the column sum of op(B), also gated', () => {
    const [M, N, K] = [3, 4, 5];
    const a = randomArray(K * M, 71);
    const b = randomArray(K * N, 72);
    const y = randomArray(K * N, 73);
    const out = runCpu64(matmulKernel({ M, N, K, transA: true, biasGrad: true, gate: 'B', activation: { kind: 'tanh' } }), { a, b, gate: y });
    for (let col = 0; col < N; col++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += (b[k * N + col] as number) * (1 - (y[k * N + col] as number) ** 2);
      expect((out.db as Float64Array)[col]).toBeCloseTo(sum, 10);
    }
  });

  it('a dense layer with an activation: gated backward kernels against finite differences', () => {
    // y = tanh(x·W + bias); L = <R, y>. The gated kernels take dL/dy = R and the forward y.
    const [B, In, Out] = [4, 6, 5];
    const x = randomArray(B * In, 81);
    const w = randomArray(In * Out, 82);
    const bias = randomArray(Out, 83);
    const R = randomArray(B * Out, 84);
    const tanh = { kind: 'tanh' } as const;
    const forward = matmulKernel({ M: B, N: Out, K: In, bias: true, activation: tanh });
    const yOf = (inp: Record<string, Float64Array>): Float64Array =>
      runCpu64(forward, { a: inp.x as Float64Array, b: inp.w as Float64Array, bias: inp.bias as Float64Array }).c as Float64Array;
    const loss = (inp: Record<string, Float64Array>): number => dot(R, yOf(inp));
    const inputs = { x, w, bias };
    const y = yOf({ x: Float64Array.from(x), w: Float64Array.from(w), bias: Float64Array.from(bias) });
    const g = matmulBackwardKernels({ M: B, N: Out, K: In, gate: tanh, biasGrad: true });
    const fwd = { A: x, B: w, dC: R };
    const dW = runCpu64(g.dB.kernel, { a: fwd[g.dB.a], b: fwd[g.dB.b], gate: y });
    const dX = runCpu64(g.dA.kernel, { a: fwd[g.dA.a], b: fwd[g.dA.b], gate: y });
    expect(finiteDifferenceError(loss, inputs, 'w', dW.c as Float64Array)).toBeLessThanOrEqual(1e-6);
    expect(finiteDifferenceError(loss, inputs, 'bias', dW.db as Float64Array)).toBeLessThanOrEqual(1e-6);
    expect(finiteDifferenceError(loss, inputs, 'x', dX.c as Float64Array)).toBeLessThanOrEqual(1e-6);
    expect(bindMatmulGradient(g.dB, { A: 'x', B: 'w', dC: 'dy' }, 'dw', { gate: 'y', db: 'db' })).toEqual({ a: 'x', b: 'dy', c: 'dw', gate: 'y', db: 'db' });
    expect(() => bindMatmulGradient(g.dB, { A: 'x', B: 'w', dC: 'dy' }, 'dw')).toThrow('the gradient is gated, bind the forward output as gate');
  });
});

describe('matmul accumulate (C += op(A)·op(B))', () => {
  for (const t of TRANSPOSES) {
    it(`${label(t)} adds to the C already there`, async () => {
      const [M, N, K] = [37, 70, 19];
      const a = randomArray(M * K, 21);
      const b = randomArray(K * N, 22);
      const c0 = randomArray(M * N, 23, -5, 5);
      const r = await runBoth(matmulKernel({ M, N, K, ...t, accumulate: true }), { a, b, c: c0 });
      const gpu = r.gpu.c as Float32Array;
      const cpu = r.cpu.c as Float32Array;
      expect(maxRelError(gpu, cpu)).toBeLessThanOrEqual(1e-4);
      // And both really are C0 + op(A)·op(B), not an overwrite.
      const opA = (i: number, k: number): number => a[t.transA ? k * M + i : i * K + k] as number;
      const opB = (k: number, j: number): number => b[t.transB ? j * K + k : k * N + j] as number;
      const product = naiveProduct(M, N, K, opA, opB);
      const expected = product.map((v, i) => v + (c0[i] as number));
      expect(maxRelError(gpu, expected)).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('matmul CPU twin against a product worked by hand', () => {
  it('C = relu(A·B + bias) for a 2x3 by 3x2 product, in every layout', () => {
    // A = [[1, 2, 3], [4, 5, 6]], B = [[1, -1], [0, 2], [-2, 1]]
    // A·B = [[-5, 6], [-8, 12]]
    const A = [1, 2, 3, 4, 5, 6];
    const At = [1, 4, 2, 5, 3, 6];
    const B = [1, -1, 0, 2, -2, 1];
    const Bt = [1, 0, -2, -1, 2, 1];
    const bias = [10, -7];
    // A·B + bias = [[5, -1], [2, 5]]; relu = [[5, 0], [2, 5]]
    for (const t of TRANSPOSES) {
      const k = matmulKernel({ M: 2, N: 2, K: 3, ...t, bias: true, activation: { kind: 'relu' } });
      const out = runCpu64(k, { a: t.transA ? At : A, b: t.transB ? Bt : B, bias });
      expect(Array.from(out.c as Float64Array)).toEqual([5, 0, 2, 5]);
    }
  });
});

describe('matmul backward kernels against float64 finite differences', () => {
  for (const t of TRANSPOSES) {
    it(`L = Σ W⊙(${label(t)})`, () => {
      const [M, N, K] = [5, 7, 3];
      const A = randomArray(M * K, 31);
      const B = randomArray(K * N, 32);
      const W = randomArray(M * N, 33);
      const forward = matmulKernel({ M, N, K, ...t });
      const loss = (x: Record<string, Float64Array>): number =>
        dot(W, runCpu64(forward, { a: x.A as Float64Array, b: x.B as Float64Array }).c as Float64Array);
      const g = matmulBackwardKernels({ M, N, K, ...t });
      const operands = { A, B, dC: W };
      const dA = runCpu64(g.dA.kernel, { a: operands[g.dA.a], b: operands[g.dA.b] }).c as Float64Array;
      const dB = runCpu64(g.dB.kernel, { a: operands[g.dB.a], b: operands[g.dB.b] }).c as Float64Array;
      expect(dA.length).toBe(M * K);
      expect(dB.length).toBe(K * N);
      expect(finiteDifferenceError(loss, { A, B }, 'A', dA)).toBeLessThanOrEqual(1e-6);
      expect(finiteDifferenceError(loss, { A, B }, 'B', dB)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('the gradient kernels declare their operands in the stored layouts', () => {
    const g = matmulBackwardKernels({ M: 2, N: 3, K: 4, transA: true, transB: true });
    expect(g.dA.kernel.slots.c?.shape).toEqual([4, 2]);
    expect(g.dB.kernel.slots.c?.shape).toEqual([3, 4]);
    expect(bindMatmulGradient(g.dA, { A: 'x', B: 'w', dC: 'dy' }, 'dx')).toEqual({ a: 'w', b: 'dy', c: 'dx' });
    expect(bindMatmulGradient(g.dB, { A: 'x', B: 'w', dC: 'dy' }, 'dw')).toEqual({ a: 'dy', b: 'x', c: 'dw' });
    // A plan accepts the bindings: every shape matches.
    const plan = new Plan();
    plan.tensor('x', [4, 2]);
    plan.tensor('w', [3, 4]);
    plan.tensor('dy', [2, 3]);
    plan.tensor('dx', [4, 2]);
    plan.tensor('dw', [3, 4]);
    plan.call(g.dA.kernel, bindMatmulGradient(g.dA, { A: 'x', B: 'w', dC: 'dy' }, 'dx'));
    plan.call(g.dB.kernel, bindMatmulGradient(g.dB, { A: 'x', B: 'w', dC: 'dy' }, 'dw'));
    expect(plan.calls.length).toBe(2);
  });

  it('accumulating gradients run on the GPU and add to what is there', async () => {
    const [M, N, K] = [20, 9, 40];
    const g = matmulBackwardKernels({ M, N, K, transB: true, accumulateDB: true });
    expect(g.dB.kernel.name).toBe('matmul[A^T,+=]');
    const dC = randomArray(M * N, 41);
    const A = randomArray(M * K, 42);
    const dB0 = randomArray(N * K, 43);
    const r = await runBoth(g.dB.kernel, { a: dC, b: A, c: dB0 });
    expect(maxRelError(r.gpu.c as Float32Array, r.cpu.c as Float32Array)).toBeLessThanOrEqual(1e-4);
  });
});

describe('matmul rejects bad parameters', () => {
  it('sizes must be positive integers', () => {
    expect(() => matmulKernel({ M: 0, N: 3, K: 4 })).toThrow('matmul: M must be a positive integer, got 0');
    expect(() => matmulKernel({ M: 2, N: 1.5, K: 4 })).toThrow('matmul: N must be a positive integer, got 1.5');
    expect(() => matmulKernel({ M: 2, N: 3, K: -1 })).toThrow('matmul: K must be a positive integer, got -1');
    expect(() => matmulBackwardKernels({ M: 2, N: 3, K: Number.NaN })).toThrow(
      'matmul backward: K must be a positive integer, got NaN',
    );
  });

  it('accumulate cannot be combined with bias or an activation', () => {
    expect(() => matmulKernel({ M: 2, N: 3, K: 4, accumulate: true, bias: true })).toThrow(
      'matmul: accumulate (C += op(A)·op(B)) cannot be combined with bias or an activation, got bias',
    );
    expect(() => matmulKernel({ M: 2, N: 3, K: 4, accumulate: true, activation: { kind: 'relu' } })).toThrow(
      'matmul: accumulate (C += op(A)·op(B)) cannot be combined with bias or an activation, got relu',
    );
    expect(() =>
      matmulKernel({ M: 2, N: 3, K: 4, accumulate: true, bias: true, activation: { kind: 'leaky_relu', alpha: 0.2 } }),
    ).toThrow('got bias and leaky_relu(0.2)');
  });

  it('a bad activation is reported by the matmul', () => {
    expect(() => matmulKernel({ M: 2, N: 3, K: 4, activation: { kind: 'leaky_relu', alpha: 2 } })).toThrow(
      'matmul: leaky_relu alpha must be in (0, 1), got 2',
    );
  });

  it('more outputs than a dispatch reaches', () => {
    const M = 64 * 65_535 + 1;
    expect(() => matmulKernel({ M, N: 1, K: 1 })).toThrow(
      `matmul: C [${M}, 1] has ${M} rows, more than 64 x 65535 (the outputs a dispatch reaches in one dimension with 64 per workgroup)`,
    );
    // A variant with smaller workgroups than the shape needs says so when asked for its dispatches.
    const k = matmulKernel({ M: 64 * 65_535, N: 1, K: 1 });
    expect(() => k.gpu(forcedTarget('tiled64'))).not.toThrow();
    expect(() => k.gpu(forcedTarget('register4x4'))).toThrow(
      'matmul: 4194240 rows need 131070 workgroups, more than the 65535 a dispatch allows',
    );
  });

  it('gating and bias gradients are checked', () => {
    expect(() => matmulKernel({ M: 2, N: 3, K: 4, gate: 'A' })).toThrow(
      'matmul: a gated operand (gate A) needs the activation whose derivative gates it and no bias',
    );
    expect(() => matmulKernel({ M: 2, N: 3, K: 4, bias: true, biasGrad: true })).toThrow(
      'matmul: biasGrad (db = column sums of op(B)) cannot be combined with a forward bias',
    );
    expect(() => matmulBackwardKernels({ M: 2, N: 3, K: 4, transB: true, biasGrad: true })).toThrow(
      'matmul backward: biasGrad needs B stored [K, N] (transB false)',
    );
  });

  it('a wrong-shaped tensor bound in a plan names the tensor and both shapes', () => {
    const plan = new Plan();
    plan.tensor('x', [3, 2]);
    plan.tensor('w', [3, 5]);
    plan.tensor('y', [2, 5]);
    // x is [3, 2]: right for transA, wrong for the plain layout that expects [M, K] = [2, 3].
    expect(() => plan.call(matmulKernel({ M: 2, N: 5, K: 3 }), { a: 'x', b: 'w', c: 'y' })).toThrow(
      'matmul: tensor "x" (slot "a") has shape [3, 2], the kernel expects [2, 3]',
    );
    plan.tensor('bias', [2]);
    expect(() =>
      plan.call(matmulKernel({ M: 2, N: 5, K: 3, transA: true, bias: true }), { a: 'x', b: 'w', bias: 'bias', c: 'y' }),
    ).toThrow('matmul[A^T,bias]: tensor "bias" (slot "bias") has shape [2], the kernel expects [5]');
    expect(() => plan.call(matmulKernel({ M: 2, N: 5, K: 3, transA: true }), { a: 'x', b: 'w' })).toThrow(
      'matmul[A^T]: slot "c" is not bound',
    );
  });
});
