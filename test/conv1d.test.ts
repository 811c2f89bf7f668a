import { describe, expect, it } from 'vitest';
import {
  type Conv1dParams,
  type ConvTranspose1dParams,
  conv1dBackwardBiasKernel,
  conv1dBackwardInputKernel,
  conv1dBackwardWeightKernel,
  conv1dForwardKernel,
  convTranspose1dBackwardBiasKernel,
  convTranspose1dBackwardInputKernel,
  convTranspose1dBackwardWeightKernel,
  convTranspose1dForwardKernel,
} from '../src/kernels/conv1d.ts';
import { forcedTarget, gemmScratch } from '../src/kernels/gemm.ts';
import { GEMM_VARIANTS, type GemmVariant } from '../src/kernels/gpuTarget.ts';
import { type HostArray, type Kernel, elementCount, scratchOf } from '../src/kernels/kernel.ts';
import { Plan } from '../src/plan/plan.ts';
import { type BothResults, dot, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

// Sizes come from the grid B ∈ {1, 3}, L ∈ {1, 37, 100, 129}, Cin ∈ {1, 5, 32},
// Cout ∈ {1, 7, 50}, K ∈ {1, 4, 5, 10}: a subset that still meets every value,
// both paddings, L < K under 'same', even K, and sizes that are not tile multiples.

function random(kernel: Kernel, slot: string, seed: number): Float32Array {
  const spec = kernel.slots[slot];
  if (!spec) throw new Error(`${kernel.name} has no slot ${slot}`);
  return randomArray(elementCount(spec.shape), seed);
}

function expectClose(r: BothResults, slot: string): void {
  expect(maxRelError(r.gpu[slot] as Float32Array, r.cpu[slot] as Float32Array)).toBeLessThanOrEqual(1e-4);
}

function describeParams(p: Conv1dParams | ConvTranspose1dParams): string {
  const act = p.activation ? ` ${p.activation.kind}` : '';
  const sizes = `B${p.batch} L${p.length} Cin${p.inChannels} Cout${p.outChannels} K${p.kernelSize}`;
  return `${sizes} pad=${p.padding}${p.bias ? ' bias' : ''}${act}`;
}

// --- Semantics against textbook formulas ---------------------------------------------

/** y[b,l,co] = Σ x[b, l+k-left, ci] w[k,ci,co], written straight from the definition. */
function textbookConv1d(p: Conv1dParams, x: ArrayLike<number>, w: ArrayLike<number>): number[] {
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
  const left = p.padding === 'same' ? Math.floor((K - 1) / 2) : 0;
  const Lout = p.padding === 'same' ? L : L - K + 1;
  const y = new Array<number>(B * Lout * Cout).fill(0);
  for (let b = 0; b < B; b++)
    for (let l = 0; l < Lout; l++)
      for (let co = 0; co < Cout; co++)
        for (let k = 0; k < K; k++)
          for (let ci = 0; ci < Cin; ci++) {
            const i = l + k - left;
            if (i < 0 || i >= L) continue;
            y[(b * Lout + l) * Cout + co] += (x[(b * L + i) * Cin + ci] as number) * (w[(k * Cin + ci) * Cout + co] as number);
          }
  return y;
}

/** PyTorch's ConvTranspose1d in scatter form: each input x[i] adds x[i]·W[ci,co,k] to output
 * i + k - padding, with W [Cin, Cout, K] in PyTorch's layout, i.e. W[ci,co,k] = w[k,co,ci]. */
function textbookConvTranspose1d(p: ConvTranspose1dParams, x: ArrayLike<number>, w: ArrayLike<number>): number[] {
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K, padding: P } = p;
  const Lout = L + K - 1 - 2 * P;
  const pytorchW = (ci: number, co: number, k: number): number => w[(k * Cout + co) * Cin + ci] as number;
  const y = new Array<number>(B * Lout * Cout).fill(0);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < L; i++)
      for (let ci = 0; ci < Cin; ci++)
        for (let co = 0; co < Cout; co++)
          for (let k = 0; k < K; k++) {
            const j = i + k - P;
            if (j >= 0 && j < Lout) y[(b * Lout + j) * Cout + co] += (x[(b * L + i) * Cin + ci] as number) * pytorchW(ci, co, k);
          }
  return y;
}

describe('conv1d semantics', () => {
  it("even kernel under 'same' pads like PyTorch: left floor((K-1)/2), the rest on the right", () => {
    // K = 2: left 0, right 1, so y[l] = x[l]·w0 + x[l+1]·w1 and the last output sees one zero.
    const p: Conv1dParams = { batch: 1, length: 3, inChannels: 1, outChannels: 1, kernelSize: 2, padding: 'same' };
    const y = runCpu64(conv1dForwardKernel(p), { x: [1, 2, 3], w: [1, 10] }).y as Float64Array;
    expect(Array.from(y)).toEqual([21, 32, 3]);
    // K = 4: left 1, right 2.
    const p4: Conv1dParams = { ...p, kernelSize: 4 };
    const y4 = runCpu64(conv1dForwardKernel(p4), { x: [1, 2, 3], w: [1, 10, 100, 1000] }).y as Float64Array;
    expect(Array.from(y4)).toEqual([10 * 1 + 100 * 2 + 1000 * 3, 1 + 20 + 300, 2 + 30]);
  });

  for (const p of [
    { batch: 2, length: 9, inChannels: 3, outChannels: 4, kernelSize: 4, padding: 'same' },
    { batch: 2, length: 3, inChannels: 2, outChannels: 3, kernelSize: 5, padding: 'same' },
    { batch: 1, length: 9, inChannels: 3, outChannels: 2, kernelSize: 5, padding: 'valid' },
  ] as const satisfies readonly Conv1dParams[]) {
    it(`forward matches the definition, ${describeParams(p)}`, () => {
      const k = conv1dForwardKernel(p);
      const x = random(k, 'x', 1);
      const w = random(k, 'w', 2);
      expect(maxRelError(runCpu64(k, { x, w }).y as Float64Array, textbookConv1d(p, x, w))).toBeLessThanOrEqual(1e-12);
    });
  }

  for (const p of [
    { batch: 2, length: 6, inChannels: 3, outChannels: 2, kernelSize: 4, padding: 0 },
    { batch: 1, length: 7, inChannels: 2, outChannels: 3, kernelSize: 5, padding: 2 },
    { batch: 1, length: 9, inChannels: 2, outChannels: 2, kernelSize: 3, padding: 4 },
  ] as const satisfies readonly ConvTranspose1dParams[]) {
    it(`transposed forward matches PyTorch's scatter form, ${describeParams(p)}`, () => {
      const k = convTranspose1dForwardKernel(p);
      const x = random(k, 'x', 3);
      const w = random(k, 'w', 4);
      const y = runCpu64(k, { x, w }).y as Float64Array;
      expect(y.length).toBe(p.batch * (p.length + p.kernelSize - 1 - 2 * p.padding) * p.outChannels);
      expect(maxRelError(y, textbookConvTranspose1d(p, x, w))).toBeLessThanOrEqual(1e-12);
    });
  }

  // <convT(u), v> = <u, conv(v)> when convT's padding P pads the conv by P on both sides:
  // 'valid' is P = 0, 'same' with odd K is P = (K - 1) / 2. The same array w serves as the
  // conv's [K, Cin, Cout] and the transposed conv's [K, Cout', Cin'].
  for (const [kernelSize, padding, P] of [
    [5, 'valid', 0],
    [1, 'valid', 0],
    [5, 'same', 2],
    [3, 'same', 1],
  ] as const) {
    it(`transposed conv is the adjoint of conv1d, K${kernelSize} ${padding}`, () => {
      const conv: Conv1dParams = { batch: 2, length: 11, inChannels: 3, outChannels: 4, kernelSize, padding };
      const convOut = padding === 'same' ? 11 : 11 - kernelSize + 1;
      const convT: ConvTranspose1dParams = { batch: 2, length: convOut, inChannels: 4, outChannels: 3, kernelSize, padding: P };
      const fwd = conv1dForwardKernel(conv);
      const tr = convTranspose1dForwardKernel(convT);
      const w = random(fwd, 'w', 5);
      const u = random(tr, 'x', 6);
      const v = random(fwd, 'x', 7);
      const lhs = dot(runCpu64(tr, { x: u, w }).y as Float64Array, v);
      const rhs = dot(u, runCpu64(fwd, { x: v, w }).y as Float64Array);
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(lhs)));
    });
  }
});

// --- GPU against CPU -----------------------------------------------------------------

// Two activations (one with ALPHA) exercise the fused epilogue and the gated backward;
// the activation functions themselves are tested in activation.test.ts. Cases share
// activations and tile shapes where they can, since every pipeline variant costs
// SwiftShader a compile of most of a second.
const SPLIT_WEIGHT_GRAD: Conv1dParams = { batch: 3, length: 129, inChannels: 32, outChannels: 7, kernelSize: 10, padding: 'valid', bias: true };

const CONV_CASES: readonly Conv1dParams[] = [
  { batch: 1, length: 1, inChannels: 1, outChannels: 1, kernelSize: 1, padding: 'same', bias: true },
  { batch: 3, length: 37, inChannels: 5, outChannels: 7, kernelSize: 4, padding: 'same', bias: true, activation: { kind: 'leaky_relu', alpha: 0.1 } },
  // DeepChrome's layer: 5 marks over 100 bins, 50 filters of width 10.
  { batch: 1, length: 100, inChannels: 5, outChannels: 50, kernelSize: 10, padding: 'same', bias: true, activation: { kind: 'tanh' } },
  // The weight gradient's depth B·Lout = 360 is split over workgroups.
  SPLIT_WEIGHT_GRAD,
  { batch: 1, length: 129, inChannels: 32, outChannels: 50, kernelSize: 4, padding: 'valid' },
  // L < K under 'same': windows hang over both ends. Cout = 129 (off the grid) spans three
  // column tiles of the forward and of the weight gradient.
  { batch: 3, length: 1, inChannels: 5, outChannels: 129, kernelSize: 10, padding: 'same' },
  { batch: 1, length: 4, inChannels: 32, outChannels: 50, kernelSize: 5, padding: 'same', bias: true, activation: { kind: 'tanh' } },
];

/** The forward output y that the backward kernels of an activated layer read. */
function gateInputs(p: { readonly activation?: unknown }, y: HostArray): Record<string, HostArray> {
  return p.activation ? { y } : {};
}

/** Forward, input gradient and weight gradient (with the bias gradient fused in
 * where the kernel has a db slot, else the separate bias kernel) of one case,
 * every GEMM in `variant` (the heuristic's choice when undefined). */
async function checkFamilyOnGpu<P extends Conv1dParams | ConvTranspose1dParams>(
  family: Family<P>,
  p: P,
  seed: number,
  variant?: GemmVariant,
): Promise<void> {
  const target = variant ? forcedTarget(variant) : undefined;
  const fwd = family.forward(p);
  const x = random(fwd, 'x', seed);
  const w = random(fwd, 'w', seed + 1);
  const bias: Record<string, Float32Array> = p.bias ? { bias: random(fwd, 'bias', seed + 2) } : {};
  const f = await runBoth(fwd, { x, w, ...bias }, target);
  expectClose(f, 'y');

  const gate = gateInputs(p, f.cpu.y as Float32Array);
  const dy = random(fwd, 'y', seed + 3);
  expectClose(await runBoth(family.input(p), { dy, w, ...gate }, target), 'dx');
  const weight = family.weight(p);
  const wr = await runBoth(weight, { x, dy, ...gate }, target);
  expectClose(wr, 'dw');
  if ('db' in weight.slots) expectClose(wr, 'db');
  if (p.bias) expectClose(await runBoth(family.bias(p), { dy, ...gate }, target), 'db');
}

describe('conv1d forward and backward, GPU against CPU', () => {
  for (const [i, p] of CONV_CASES.entries()) {
    it(describeParams(p), async () => {
      await checkFamilyOnGpu(CONV, p, 11 + 10 * i);
    });
  }

  it('the weight gradient of a layer with a bias also writes its bias gradient', () => {
    const k = conv1dBackwardWeightKernel(SPLIT_WEIGHT_GRAD);
    expect(k.slots.db?.shape).toEqual([SPLIT_WEIGHT_GRAD.outChannels]);
    const noBias = conv1dBackwardWeightKernel({ ...SPLIT_WEIGHT_GRAD, bias: false });
    expect('db' in noBias.slots).toBe(false);
  });

  it('bias gradient over more rows than one workgroup chunk, bitwise repeatable', async () => {
    // B·Lout = 1200 rows: per-chunk tree sums, then the ordered pass over the chunks.
    const p: Conv1dParams = { batch: 3, length: 400, inChannels: 1, outChannels: 7, kernelSize: 5, padding: 'same', bias: true };
    const k = conv1dBackwardBiasKernel(p);
    expect(scratchOf(k, forcedTarget('register4x4')).partials?.shape).toEqual([2, 7]);
    const dy = random(k, 'dy', 21);
    const first = await runBoth(k, { dy });
    expectClose(first, 'db');
    const second = await runBoth(k, { dy });
    expect(Array.from(second.gpu.db as Float32Array)).toEqual(Array.from(first.gpu.db as Float32Array));
  });

  it('split-K weight gradient is bitwise repeatable', async () => {
    const k = conv1dBackwardWeightKernel(SPLIT_WEIGHT_GRAD);
    const target = forcedTarget('splitk4x4');
    expect(Object.values(scratchOf(k, target))[0]?.shape[0]).toBeGreaterThan(1);
    const x = random(k, 'x', 22);
    const dy = random(k, 'dy', 23);
    const first = await runBoth(k, { x, dy }, target);
    expectClose(first, 'dw');
    expectClose(first, 'db');
    const second = await runBoth(k, { x, dy }, target);
    expect(Array.from(second.gpu.dw as Float32Array)).toEqual(Array.from(first.gpu.dw as Float32Array));
    expect(Array.from(second.gpu.db as Float32Array)).toEqual(Array.from(first.gpu.db as Float32Array));
  });
});

const TRANSPOSED_CASES: readonly ConvTranspose1dParams[] = [
  { batch: 1, length: 1, inChannels: 1, outChannels: 1, kernelSize: 1, padding: 0 },
  { batch: 3, length: 37, inChannels: 7, outChannels: 5, kernelSize: 4, padding: 1, bias: true, activation: { kind: 'leaky_relu', alpha: 0.1 } },
  // Decoder-like: 50 channels back to the 5 marks over the 100 bins.
  { batch: 1, length: 100, inChannels: 50, outChannels: 5, kernelSize: 10, padding: 0, bias: true, activation: { kind: 'tanh' } },
  // Lout = L: the bias gradient rides along in the weight gradient (a column of ones at tap 2).
  { batch: 3, length: 129, inChannels: 32, outChannels: 1, kernelSize: 5, padding: 2, bias: true },
  // padding > K - 1 crops: Lout = 37 + 4 - 12 = 29.
  { batch: 3, length: 37, inChannels: 1, outChannels: 7, kernelSize: 5, padding: 6, bias: true, activation: { kind: 'tanh' } },
  { batch: 3, length: 1, inChannels: 5, outChannels: 50, kernelSize: 10, padding: 4 },
];

describe('transposed conv1d forward and backward, GPU against CPU', () => {
  for (const [i, p] of TRANSPOSED_CASES.entries()) {
    it(describeParams(p), async () => {
      await checkFamilyOnGpu(TRANSPOSED, p, 31 + 10 * i);
    });
  }

  it('fuses the bias gradient exactly when one tap covers every output position', () => {
    const fused = TRANSPOSED_CASES.filter((p) => p.bias && 'db' in convTranspose1dBackwardWeightKernel(p).slots);
    // Lout <= L: K4 p1 (Lout 38 > 37: no), K10 p0 (no), K5 p2 (Lout = L: yes), K5 p6 (Lout 29 < 37: yes).
    expect(fused.map((p) => `K${p.kernelSize} p${p.padding}`)).toEqual(['K5 p2', 'K5 p6']);
  });
});

// Every GEMM variant on the cases that reach its edges: lone rows and columns,
// channel counts that are and are not multiples of 4 (the vec4 paths), a depth
// long enough to split, and both bias-gradient fusions.
const VARIANT_CONV_CASES: readonly Conv1dParams[] = [
  { batch: 3, length: 37, inChannels: 5, outChannels: 7, kernelSize: 4, padding: 'same', bias: true, activation: { kind: 'leaky_relu', alpha: 0.1 } },
  { batch: 2, length: 129, inChannels: 32, outChannels: 64, kernelSize: 5, padding: 'same', bias: true, activation: { kind: 'leaky_relu', alpha: 0.5 } },
];
const VARIANT_TRANSPOSED_CASES: readonly ConvTranspose1dParams[] = [
  { batch: 2, length: 37, inChannels: 64, outChannels: 32, kernelSize: 5, padding: 2, bias: true, activation: { kind: 'leaky_relu', alpha: 0.5 } },
  { batch: 3, length: 37, inChannels: 7, outChannels: 5, kernelSize: 4, padding: 1, bias: true, activation: { kind: 'tanh' } },
];

describe('every GEMM variant of the conv kernels, GPU against CPU', () => {
  for (const variant of GEMM_VARIANTS) {
    it(`${variant}: conv1d`, async () => {
      for (const [i, p] of VARIANT_CONV_CASES.entries()) await checkFamilyOnGpu(CONV, p, 51 + 10 * i, variant);
    });
    it(`${variant}: transposed conv1d`, async () => {
      for (const [i, p] of VARIANT_TRANSPOSED_CASES.entries()) await checkFamilyOnGpu(TRANSPOSED, p, 71 + 10 * i, variant);
    });
  }

  it('split-K keeps partials only where the depth is long enough to split', () => {
    expect(gemmScratch({ M: 64, N: 64, K: 16 }, 'splitk4x4')).toEqual({});
    const big = Object.values(gemmScratch({ M: 161, N: 32, K: 6400 }, 'splitk4x4'))[0];
    expect(big?.shape.slice(1)).toEqual([161, 32]);
    expect(big?.shape[0]).toBeGreaterThan(1);
  });
});

// --- Backward kernels against float64 finite differences ------------------------------

interface Family<P> {
  readonly forward: (p: P) => Kernel;
  readonly input: (p: P) => Kernel;
  readonly weight: (p: P) => Kernel;
  readonly bias: (p: P) => Kernel;
}

const CONV: Family<Conv1dParams> = {
  forward: conv1dForwardKernel,
  input: conv1dBackwardInputKernel,
  weight: conv1dBackwardWeightKernel,
  bias: conv1dBackwardBiasKernel,
};

const TRANSPOSED: Family<ConvTranspose1dParams> = {
  forward: convTranspose1dForwardKernel,
  input: convTranspose1dBackwardInputKernel,
  weight: convTranspose1dBackwardWeightKernel,
  bias: convTranspose1dBackwardBiasKernel,
};

/** L = <r, forward(x, w, bias)>; the backward kernels given dy = r must return dL/dx, dL/dw, dL/dbias. */
function checkGradients<P extends Conv1dParams | ConvTranspose1dParams>(family: Family<P>, p: P): void {
  const fwd = family.forward(p);
  const inputs: Record<string, Float32Array> = { x: random(fwd, 'x', 41), w: random(fwd, 'w', 42) };
  if (p.bias) inputs.bias = random(fwd, 'bias', 43);
  const r = random(fwd, 'y', 44);
  const loss = (inp: Record<string, Float64Array>): number => dot(r, runCpu64(fwd, inp).y as Float64Array);
  const gate = gateInputs(p, runCpu64(fwd, inputs).y as Float64Array);
  const dx = runCpu64(family.input(p), { dy: r, w: inputs.w as Float32Array, ...gate }).dx as Float64Array;
  const dw = runCpu64(family.weight(p), { x: inputs.x as Float32Array, dy: r, ...gate }).dw as Float64Array;
  expect(finiteDifferenceError(loss, inputs, 'x', dx)).toBeLessThanOrEqual(1e-6);
  expect(finiteDifferenceError(loss, inputs, 'w', dw)).toBeLessThanOrEqual(1e-6);
  if (p.bias) {
    const db = runCpu64(family.bias(p), { dy: r, ...gate }).db as Float64Array;
    expect(finiteDifferenceError(loss, inputs, 'bias', db)).toBeLessThanOrEqual(1e-6);
  }
}

describe('backward kernels against float64 finite differences', () => {
  // Smooth activations only: finite differences across relu's kink are meaningless.
  for (const p of [
    { batch: 2, length: 6, inChannels: 3, outChannels: 4, kernelSize: 4, padding: 'same', bias: true, activation: { kind: 'tanh' } },
    { batch: 2, length: 3, inChannels: 2, outChannels: 3, kernelSize: 5, padding: 'same', bias: true },
    { batch: 2, length: 7, inChannels: 3, outChannels: 2, kernelSize: 3, padding: 'valid', bias: true, activation: { kind: 'softplus' } },
    { batch: 1, length: 5, inChannels: 2, outChannels: 3, kernelSize: 5, padding: 'valid' },
  ] as const satisfies readonly Conv1dParams[]) {
    it(`conv1d ${describeParams(p)}`, () => checkGradients(CONV, p));
  }
  for (const p of [
    { batch: 2, length: 5, inChannels: 3, outChannels: 2, kernelSize: 4, padding: 0, bias: true, activation: { kind: 'sigmoid' } },
    { batch: 2, length: 6, inChannels: 2, outChannels: 3, kernelSize: 5, padding: 2, bias: true },
    { batch: 1, length: 8, inChannels: 2, outChannels: 2, kernelSize: 3, padding: 3, activation: { kind: 'tanh' } },
  ] as const satisfies readonly ConvTranspose1dParams[]) {
    it(`transposed ${describeParams(p)}`, () => checkGradients(TRANSPOSED, p));
  }
});

// --- Bad parameters -----------------------------------------------------------------

describe('conv1d rejects bad parameters', () => {
  const ok: Conv1dParams = { batch: 2, length: 10, inChannels: 5, outChannels: 7, kernelSize: 3, padding: 'same', bias: true };
  const okT: ConvTranspose1dParams = { batch: 2, length: 10, inChannels: 7, outChannels: 5, kernelSize: 3, padding: 1, bias: true };

  it("'valid' with length < kernelSize", () => {
    expect(() => conv1dForwardKernel({ ...ok, length: 3, kernelSize: 5, padding: 'valid' })).toThrow(
      "conv1d.forward: padding 'valid' needs length >= kernelSize, got length 3 < kernelSize 5",
    );
    expect(() => conv1dBackwardWeightKernel({ ...ok, length: 3, kernelSize: 5, padding: 'valid' })).toThrow(
      "conv1d.backwardWeight: padding 'valid' needs length >= kernelSize",
    );
  });

  it('a GEMM past the 2^24 rows or depth that the shader divides exactly', () => {
    // batch·length = 2^24 rows of the forward GEMM, and the same as the weight gradient's depth.
    const big = { ...ok, batch: 2 ** 20, length: 16 };
    expect(() => conv1dForwardKernel(big)).toThrow(
      'conv1d.forward[same,k3,bias]: its GEMM is 16777216 rows by 15 deep; the conv kernels index at most 16777152 of either (split the batch)',
    );
    expect(() => conv1dBackwardWeightKernel(big)).toThrow('its GEMM is 16 rows by 16777216 deep; the conv kernels index at most 16777152');
    expect(() => conv1dForwardKernel({ ...big, batch: 2 ** 20 - 4 })).not.toThrow();
  });

  it('sizes that are not positive integers', () => {
    expect(() => conv1dForwardKernel({ ...ok, batch: 0 })).toThrow('conv1d.forward: batch must be a positive integer, got 0');
    expect(() => conv1dBackwardInputKernel({ ...ok, kernelSize: 2.5 })).toThrow(
      'conv1d.backwardInput: kernelSize must be a positive integer, got 2.5',
    );
    expect(() => conv1dBackwardBiasKernel({ ...ok, outChannels: -1 })).toThrow(
      'conv1d.backwardBias: outChannels must be a positive integer, got -1',
    );
    expect(() => convTranspose1dForwardKernel({ ...okT, inChannels: Number.NaN })).toThrow(
      'convTranspose1d.forward: inChannels must be a positive integer, got NaN',
    );
  });

  it('an unknown padding', () => {
    const bad = { ...ok, padding: 'full' } as unknown as Conv1dParams;
    expect(() => conv1dForwardKernel(bad)).toThrow(`conv1d.forward: padding must be 'same' or 'valid', got "full"`);
  });

  it('transposed padding that is negative, fractional or leaves no output', () => {
    expect(() => convTranspose1dForwardKernel({ ...okT, padding: -1 })).toThrow(
      'convTranspose1d.forward: padding must be a non-negative integer, got -1',
    );
    expect(() => convTranspose1dBackwardWeightKernel({ ...okT, padding: 0.5 })).toThrow(
      'convTranspose1d.backwardWeight: padding must be a non-negative integer, got 0.5',
    );
    expect(() => convTranspose1dBackwardInputKernel({ ...okT, length: 2, padding: 2 })).toThrow(
      'convTranspose1d.backwardInput: output length = length + kernelSize - 1 - 2 * padding = 2 + 3 - 1 - 2 * 2 = 0, must be at least 1',
    );
  });

  it('a bias gradient for params without a bias', () => {
    expect(() => conv1dBackwardBiasKernel({ ...ok, bias: false })).toThrow('conv1d.backwardBias: the params have no bias (bias: true)');
    expect(() => convTranspose1dBackwardBiasKernel({ ...okT, bias: undefined })).toThrow(
      'convTranspose1d.backwardBias: the params have no bias (bias: true)',
    );
  });

  it('a bad activation', () => {
    expect(() => conv1dForwardKernel({ ...ok, activation: { kind: 'leaky_relu', alpha: 0 } })).toThrow(
      'conv1d.forward: leaky_relu alpha must be in (0, 1), got 0',
    );
  });

  it('a wrong-shaped tensor bound in a plan names the tensor and both shapes', () => {
    const plan = new Plan();
    plan.tensor('x', [2, 10, 4]);
    plan.tensor('w', [3, 5, 7]);
    plan.tensor('b', [7]);
    plan.tensor('y', [2, 10, 7]);
    expect(() => plan.call(conv1dForwardKernel(ok), { x: 'x', w: 'w', bias: 'b', y: 'y' })).toThrow(
      'conv1d.forward[same,k3,bias]: tensor "x" (slot "x") has shape [2, 10, 4], the kernel expects [2, 10, 5]',
    );
    // The transposed weight is [K, Cout, Cin]: binding a conv-layout [K, Cin, Cout] weight fails.
    plan.tensor('u', [2, 10, 7]);
    plan.tensor('wt', [3, 7, 5]);
    plan.tensor('v', [2, 10, 5]);
    expect(() => plan.call(convTranspose1dForwardKernel(okT), { x: 'u', w: 'wt', bias: 'b', y: 'v' })).toThrow(
      'convTranspose1d.forward[p1,k3,bias]: tensor "wt" (slot "w") has shape [3, 7, 5], the kernel expects [3, 5, 7]',
    );
  });

  it('an activated layer backward needs the forward output y bound', () => {
    const plan = new Plan();
    plan.tensor('dy', [2, 10, 7]);
    plan.tensor('w', [3, 5, 7]);
    plan.tensor('dx', [2, 10, 5]);
    expect(() =>
      plan.call(conv1dBackwardInputKernel({ ...ok, activation: { kind: 'relu' } }), { dy: 'dy', w: 'w', dx: 'dx' }),
    ).toThrow('conv1d.backwardInput[same,k3,bias,relu]: slot "y" is not bound');
  });
});
