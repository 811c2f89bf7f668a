import { describe, expect, it } from 'vitest';
import { normalFill } from '../src/cpu/philox.ts';
import { type SigmaParam, sigmaSlotNames } from '../src/cpu/reparam.ts';
import { reparamBackwardKernel, reparamForwardKernel } from '../src/kernels/reparam.ts';
import { Plan } from '../src/plan/plan.ts';
import { AWKWARD, dot, finiteDifferenceError, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

const SIGMAS: readonly SigmaParam[] = ['logvar', 'softplus'];

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((v, i) => v === ub[i]);
}

describe('reparameterised sampling, GPU against CPU', () => {
  for (const sigma of SIGMAS) {
    const { param, grad } = sigmaSlotNames(sigma);
    for (const batch of AWKWARD) {
      for (const latent of [1, 10]) {
        it(`${sigma} B=${batch} Z=${latent}`, async () => {
          const n = batch * latent;
          const seed = 1000 + n;
          const step = 3 + batch;
          const mu = randomArray(n, n + 1, -2, 2);
          const p = randomArray(n, n + 2, -3, 3);
          const fwd = await runBoth(reparamForwardKernel({ batch, latent, seed, sigma }), { mu, [param]: p, step: [step] });
          const eps = fwd.cpu.eps as Float32Array;
          expect(sameBits(fwd.gpu.eps as Float32Array, eps)).toBe(true);
          // eps is normalKernel's draw of the same elements at (seed, step).
          const drawn = new Float32Array(n);
          normalFill(seed, step, drawn);
          expect(sameBits(eps, drawn)).toBe(true);
          expect(maxRelError(fwd.gpu.z as Float32Array, fwd.cpu.z as Float32Array)).toBeLessThanOrEqual(1e-4);

          const dz = randomArray(n, n + 3);
          const bwd = await runBoth(reparamBackwardKernel({ batch, latent, sigma }), { dz, eps, [param]: p });
          expect(maxRelError(bwd.gpu.dMu as Float32Array, bwd.cpu.dMu as Float32Array)).toBeLessThanOrEqual(1e-4);
          expect(maxRelError(bwd.gpu[grad] as Float32Array, bwd.cpu[grad] as Float32Array)).toBeLessThanOrEqual(1e-4);
        });
      }
    }
  }

  it('sigma is exp(logvar/2) or softplus(s)', () => {
    const n = 37;
    const mu = randomArray(n, 1);
    const p = randomArray(n, 2, -4, 4);
    for (const sigma of SIGMAS) {
      const out = runCpu64(reparamForwardKernel({ batch: n, latent: 1, seed: 5, sigma }), {
        mu,
        [sigmaSlotNames(sigma).param]: p,
        step: [0],
      });
      const eps = out.eps as Float64Array;
      const z = out.z as Float64Array;
      for (let i = 0; i < n; i++) {
        const s = sigma === 'logvar' ? Math.exp((p[i] as number) / 2) : Math.log1p(Math.exp(p[i] as number));
        expect(z[i]).toBeCloseTo((mu[i] as number) + s * (eps[i] as number), 12);
      }
    }
  });

  it('the step tensor selects the draw', () => {
    const k = reparamForwardKernel({ batch: 8, latent: 4, seed: 9, sigma: 'logvar' });
    const inputs = { mu: new Float32Array(32), logvar: new Float32Array(32) };
    const a = runCpu64(k, { ...inputs, step: [0] }).z as Float64Array;
    const b = runCpu64(k, { ...inputs, step: [1] }).z as Float64Array;
    const again = runCpu64(k, { ...inputs, step: [0] }).z as Float64Array;
    expect([...again]).toEqual([...a]);
    expect(a.filter((v, i) => v === b[i]).length).toBe(0);
  });
});

describe('reparam backward against float64 finite differences (eps held fixed)', () => {
  for (const sigma of SIGMAS) {
    it(sigma, () => {
      const batch = 37;
      const latent = 10;
      const n = batch * latent;
      const { param, grad } = sigmaSlotNames(sigma);
      const fwd = reparamForwardKernel({ batch, latent, seed: 77, sigma });
      const inputs = { mu: randomArray(n, 4, -2, 2), [param]: randomArray(n, 5, -3, 3), step: [12] };
      const w = randomArray(n, 6);
      // eps depends only on (seed, step, element), so re-running the forward
      // pass on perturbed inputs keeps it fixed, as the derivation assumes.
      const loss = (inp: Record<string, Float64Array>): number => dot(w, runCpu64(fwd, inp).z as Float64Array);
      const eps = runCpu64(fwd, inputs).eps as Float64Array;
      const bwd = runCpu64(reparamBackwardKernel({ batch, latent, sigma }), { dz: w, eps, [param]: inputs[param] as Float32Array });
      expect(finiteDifferenceError(loss, inputs, 'mu', bwd.dMu as Float64Array)).toBeLessThanOrEqual(1e-6);
      expect(finiteDifferenceError(loss, inputs, param, bwd[grad] as Float64Array)).toBeLessThanOrEqual(1e-6);
    });
  }
});

describe('reparam backward accumulating onto the KL gradients', () => {
  for (const sigma of ['logvar', 'softplus'] as const) {
    it(`${sigma}: adds to dMu and the sigma gradient, GPU against CPU and against the plain pass plus the old values`, async () => {
      const [batch, latent] = [37, 10];
      const n = batch * latent;
      const { param, grad } = sigmaSlotNames(sigma);
      const inputs = { dz: randomArray(n, 1), eps: randomArray(n, 2), [param]: randomArray(n, 3, -3, 3) };
      const dMu0 = randomArray(n, 4);
      const dP0 = randomArray(n, 5);
      const acc = await runBoth(reparamBackwardKernel({ batch, latent, sigma, accumulate: true }), { ...inputs, dMu: dMu0, [grad]: dP0 });
      const plain = await runBoth(reparamBackwardKernel({ batch, latent, sigma }), inputs);
      for (const slot of ['dMu', grad]) {
        expect(maxRelError(acc.gpu[slot] as Float32Array, acc.cpu[slot] as Float32Array)).toBeLessThanOrEqual(1e-6);
      }
      const expected = (plain.cpu.dMu as Float32Array).map((v, i) => v + (dMu0[i] as number));
      expect(maxRelError(acc.gpu.dMu as Float32Array, expected)).toBeLessThanOrEqual(1e-6);
      const expectedP = (plain.cpu[grad] as Float32Array).map((v, i) => v + (dP0[i] as number));
      expect(maxRelError(acc.gpu[grad] as Float32Array, expectedP)).toBeLessThanOrEqual(1e-6);
    });
  }
});

describe('reparam rejects bad parameters', () => {
  it('sizes, seed and sigma', () => {
    expect(() => reparamForwardKernel({ batch: 0, latent: 2, seed: 1, sigma: 'logvar' })).toThrow(
      'reparam.forward[logvar]: batch must be a positive integer, got 0',
    );
    expect(() => reparamBackwardKernel({ batch: 2, latent: 1.5, sigma: 'softplus' })).toThrow(
      'reparam.backward[softplus]: latent must be a positive integer, got 1.5',
    );
    expect(() => reparamForwardKernel({ batch: 2, latent: 2, seed: -3, sigma: 'logvar' })).toThrow(
      'reparam.forward[logvar]: seed must be an integer in [0, 2^32), got -3',
    );
    expect(() => reparamForwardKernel({ batch: 2, latent: 2, seed: 1, sigma: 'exp' as SigmaParam })).toThrow(
      "reparam.forward[exp]: sigma must be 'logvar' or 'softplus', got 'exp'",
    );
    expect(() => reparamForwardKernel({ batch: 2 ** 20, latent: 2 ** 11, seed: 1, sigma: 'logvar' })).toThrow(
      'reparam.forward[logvar]: batch·latent must be at most 2^30, got 2147483648',
    );
  });

  it('a plan rejects a wrong-shaped tensor, naming it and both shapes', () => {
    const plan = new Plan();
    plan.tensor('mu', [37, 10]);
    plan.tensor('s', [37, 11]);
    plan.tensor('step', [1], 'u32');
    plan.tensor('eps', [37, 10]);
    plan.tensor('z', [37, 10]);
    expect(() =>
      plan.call(reparamForwardKernel({ batch: 37, latent: 10, seed: 1, sigma: 'softplus' }), {
        mu: 'mu',
        s: 's',
        step: 'step',
        eps: 'eps',
        z: 'z',
      }),
    ).toThrow('reparam.forward[softplus]: tensor "s" (slot "s") has shape [37, 11], the kernel expects [37, 10]');
  });
});
