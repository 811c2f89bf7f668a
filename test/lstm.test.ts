import { describe, expect, it } from 'vitest';
import type { LstmSizes } from '../src/cpu/lstm.ts';
import { type LstmSequences, lstmBackwardKernel, lstmForwardKernel, lstmInputGradKernel, lstmSequencesPerWorkgroup, lstmWeightGradKernel } from '../src/kernels/lstm.ts';
import { dot, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

// What is particular to the LSTM family: its gradients against float64
// finite differences of the forward pass, the whole backward chain on the GPU
// against the twin, and its refusals. test/kernelFamilies.test.ts runs each
// kernel on its own, GPU against CPU with outputs poisoned, at awkward sizes.

interface Inputs {
  readonly x: Float32Array;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  /** The loss is Σ w · hs, so dL/dhs = w. */
  readonly w: Float32Array;
}

function inputsFor(s: LstmSizes, seed: number): Inputs {
  const rows = s.batch * s.length * s.groups;
  return {
    x: randomArray(rows * s.input, seed, -2, 2),
    weight: randomArray(s.groups * 2 * (s.input + s.hidden) * 4 * s.hidden, seed + 1, -0.6, 0.6),
    bias: randomArray(s.groups * 8 * s.hidden, seed + 2, -0.5, 0.5),
    w: randomArray(rows * 2 * s.hidden, seed + 3),
  };
}

/** The analytic gradients of Σ w · hs from the backward kernels, in float64. */
function analytic(s: LstmSizes, inp: Inputs): { dweight: ArrayLike<number>; dbias: ArrayLike<number>; dx: ArrayLike<number> } {
  const fwd = runCpu64(lstmForwardKernel(s), { x: inp.x, weight: inp.weight, bias: inp.bias });
  const { dz } = runCpu64(lstmBackwardKernel(s), { dhs: inp.w, weight: inp.weight, cs: fwd.cs as Float64Array, acts: fwd.acts as Float64Array });
  const wg = runCpu64(lstmWeightGradKernel(s), { x: inp.x, hs: fwd.hs as Float64Array, dz: dz as Float64Array });
  const ig = runCpu64(lstmInputGradKernel(s), { dz: dz as Float64Array, weight: inp.weight });
  return { dweight: wg.dweight as Float64Array, dbias: wg.dbias as Float64Array, dx: ig.dx as Float64Array };
}

const SIZES: readonly LstmSizes[] = [
  { batch: 2, length: 5, groups: 3, input: 1, hidden: 4 },
  { batch: 1, length: 1, groups: 1, input: 3, hidden: 1 },
  { batch: 3, length: 7, groups: 1, input: 6, hidden: 5 },
];

describe('lstm gradients against float64 finite differences', () => {
  for (const s of SIZES) {
    it(`B=${s.batch} T=${s.length} G=${s.groups} I=${s.input} H=${s.hidden}`, () => {
      const inp = inputsFor(s, 11 * s.length + s.hidden);
      const loss = (v: Record<string, Float64Array>): number =>
        dot(inp.w, runCpu64(lstmForwardKernel(s), { x: v.x as Float64Array, weight: v.weight as Float64Array, bias: v.bias as Float64Array }).hs as Float64Array);
      const grads = analytic(s, inp);
      const at = { x: inp.x, weight: inp.weight, bias: inp.bias };
      expect(finiteDifferenceError(loss, at, 'weight', grads.dweight), 'weight').toBeLessThan(1e-6);
      expect(finiteDifferenceError(loss, at, 'bias', grads.dbias), 'bias').toBeLessThan(1e-6);
      expect(finiteDifferenceError(loss, at, 'x', grads.dx), 'x').toBeLessThan(1e-6);
    });
  }
});

describe('lstm backward chain, GPU against CPU', () => {
  it('gives the same gradients from the same forward pass', async () => {
    const s: LstmSizes = { batch: 4, length: 37, groups: 5, input: 1, hidden: 8 };
    const inp = inputsFor(s, 5);
    const fwd = await runBoth(lstmForwardKernel(s), { x: inp.x, weight: inp.weight, bias: inp.bias });
    expect(maxRelError(fwd.gpu.hs as Float32Array, fwd.cpu.hs as Float32Array)).toBeLessThan(1e-5);
    const cs = fwd.cpu.cs as Float32Array;
    const acts = fwd.cpu.acts as Float32Array;
    const bwd = await runBoth(lstmBackwardKernel(s), { dhs: inp.w, weight: inp.weight, cs, acts });
    expect(maxRelError(bwd.gpu.dz as Float32Array, bwd.cpu.dz as Float32Array)).toBeLessThan(1e-5);
    const wg = await runBoth(lstmWeightGradKernel(s), { x: inp.x, hs: fwd.cpu.hs as Float32Array, dz: bwd.cpu.dz as Float32Array });
    expect(maxRelError(wg.gpu.dweight as Float32Array, wg.cpu.dweight as Float32Array)).toBeLessThan(1e-5);
    expect(maxRelError(wg.gpu.dbias as Float32Array, wg.cpu.dbias as Float32Array)).toBeLessThan(1e-5);
  });

  it('stays finite where the gates saturate (|z| far past tanh’s range)', async () => {
    const s: LstmSizes = { batch: 1, length: 9, groups: 1, input: 1, hidden: 3 };
    const x = Float32Array.from({ length: 9 }, (_, i) => (i % 2 === 0 ? 1e4 : -1e4));
    const inp = inputsFor(s, 9);
    const r = await runBoth(lstmForwardKernel(s), { x, weight: inp.weight, bias: inp.bias });
    for (const v of r.gpu.hs as Float32Array) expect(Number.isFinite(v)).toBe(true);
    expect(maxRelError(r.gpu.hs as Float32Array, r.cpu.hs as Float32Array)).toBeLessThan(1e-5);
  });
});

describe('lstm sequences per workgroup', () => {
  it('takes the most that fit workgroup memory, unless the batch would leave more than a quarter of them idle', () => {
    const at = (batch: number, hidden = 32): number => lstmSequencesPerWorkgroup({ batch, length: 100, groups: 5, input: 1, hidden });
    expect([1, 2, 3, 10, 32, 64, 37].map((b) => at(b))).toEqual([1, 2, 1, 4, 8, 8, 8]);
    expect(at(64, 129)).toBe(2);
    expect(at(64, 400)).toBe(1);
  });
});

describe('lstm refusals', () => {
  it('names the kernel and the size that is wrong', () => {
    expect(() => lstmForwardKernel({ batch: 2, length: 0, groups: 1, input: 1, hidden: 4 })).toThrow(/lstm\.forward.*length/);
    expect(() => lstmBackwardKernel({ batch: 70000, length: 3, groups: 1, input: 1, hidden: 4 }, 1)).toThrow(
      /lstm\.backward\[T=3,G=1,I=1,H=4,S=1\]: 70000 × 1 sequences in workgroups of 1 are 70000 workgroups, more than 65535/,
    );
    // The default takes 8 sequences a workgroup, so that batch fits.
    expect(lstmBackwardKernel({ batch: 70000, length: 3, groups: 1, input: 1, hidden: 4 }).name).toBe('lstm.backward[T=3,G=1,I=1,H=4,S=8]');
  });

  it('refuses a sequences-per-workgroup choice that does not fit workgroup memory, or is not one it has', () => {
    expect(() => lstmForwardKernel({ batch: 8, length: 3, groups: 1, input: 1, hidden: 129 }, 8)).toThrow(
      /lstm\.forward\[T=3,G=1,I=1,H=129,S=8\]: 8 sequence\(s\) of 129 units need 41280 bytes of workgroup memory, more than 16384/,
    );
    expect(() => lstmForwardKernel({ batch: 8, length: 3, groups: 1, input: 1, hidden: 4 }, 3 as LstmSequences)).toThrow(/3 sequences a workgroup; it takes 1, 2, 4, 8/);
  });
});
