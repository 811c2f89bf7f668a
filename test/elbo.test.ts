import { describe, expect, it } from 'vitest';
import { expm1MinusX, softplusParts } from '../src/cpu/elbo.ts';
import { type SigmaParam, sigmaSlotNames } from '../src/cpu/reparam.ts';
import { type ElboParams, elboKernel } from '../src/kernels/elbo.ts';
import { HEURISTIC_TARGET } from '../src/kernels/gemm.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { AWKWARD, finiteDifferenceError, getGpu, maxRelError, randomArray, runBoth, runCpu64 } from './helpers.ts';

const SIGMAS: readonly SigmaParam[] = ['logvar', 'softplus'];

function inputsFor(p: ElboParams, seed: number): Record<string, Float32Array> {
  const rn = p.batch * p.features;
  const ln = p.batch * p.latent;
  return {
    recon: randomArray(rn, seed, -1, 2),
    target: randomArray(rn, seed + 1, -1, 2),
    mu: randomArray(ln, seed + 2, -2, 2),
    [sigmaSlotNames(p.sigma).param]: randomArray(ln, seed + 3, -3, 3),
  };
}

function expectGpuMatchesCpu(r: Awaited<ReturnType<typeof runBoth>>, sigma: SigmaParam): void {
  for (const slot of ['loss', 'dRecon', 'dMu', sigmaSlotNames(sigma).grad]) {
    const err = maxRelError(r.gpu[slot] as Float32Array, r.cpu[slot] as Float32Array);
    expect(err, slot).toBeLessThanOrEqual(1e-4);
  }
}

describe('fused ELBO, GPU against CPU', () => {
  for (const sigma of SIGMAS) {
    for (const batch of AWKWARD) {
      for (const features of [1, 37]) {
        for (const latent of [1, 10]) {
          it(`${sigma} B=${batch} D=${features} Z=${latent}`, async () => {
            const p: ElboParams = { batch, features, latent, beta: 0.75, sigma };
            expectGpuMatchesCpu(await runBoth(elboKernel(p), inputsFor(p, batch + features + latent)), sigma);
          });
        }
      }
    }
    // 129·8200 + 129·10 elements, past the single pass: 1035 partials, more
    // than one per invocation of the folding workgroup.
    it(`${sigma} B=129 D=8200 Z=10 (many partials)`, async () => {
      const p: ElboParams = { batch: 129, features: 8200, latent: 10, beta: 2, sigma };
      expectGpuMatchesCpu(await runBoth(elboKernel(p), inputsFor(p, 5)), sigma);
    });
  }

  it('loss entries are (MSE + beta·KL, MSE, KL) by the definition', () => {
    const recon = [1, 2, 3, 4, 5, 6];
    const target = [1, 1, 1, 1, 1, 1];
    const mu = [0.5, -1];
    const logvar = [0.2, -0.4];
    const out = runCpu64(elboKernel({ batch: 2, features: 3, latent: 1, beta: 0.5, sigma: 'logvar' }), {
      recon,
      target,
      mu,
      logvar,
    });
    const mse = (0 + 1 + 4 + 9 + 16 + 25) / 6;
    const kl = (mu.reduce((s, m, i) => s - 0.5 * (1 + (logvar[i] as number) - m * m - Math.exp(logvar[i] as number)), 0)) / 2;
    const loss = out.loss as Float64Array;
    // The CPU twin cuts exp(x) - 1 - x's series where f32 stops caring (~1e-9 relative).
    expect(loss[1]).toBeCloseTo(mse, 12);
    expect(loss[2]).toBeCloseTo(kl, 9);
    expect(loss[0]).toBeCloseTo(mse + 0.5 * kl, 9);
    // softplus: sigma = softplus(s) gives the same KL as logvar = 2 ln sigma.
    const s = logvar.map((lv) => Math.log(Math.expm1(Math.exp(lv / 2))));
    const soft = runCpu64(elboKernel({ batch: 2, features: 3, latent: 1, beta: 0.5, sigma: 'softplus' }), { recon, target, mu, s });
    expect((soft.loss as Float64Array)[2]).toBeCloseTo(kl, 9);
  });

  it('stays finite and accurate per element for extreme and awkward logvar and s', async () => {
    // softplus(s) is tiny for s in (-17, -8): a formula that takes GPU log near 1
    // loses most of its digits there, so this grid walks through that range.
    const p = [-100, -30, -1e-4, 0, 1e-4, 0.5413, 20, 30];
    for (let v = -17; v <= 3; v += 0.25) p.push(v);
    const batch = p.length;
    for (const sigma of SIGMAS) {
      const { param, grad } = sigmaSlotNames(sigma);
      // exp(logvar) overflows f32 beyond 88; the softplus variant takes any s.
      const values = sigma === 'logvar' ? p.map((v) => Math.max(v, -30)) : p;
      const k = elboKernel({ batch, features: 1, latent: 1, beta: 1, sigma });
      const inputs = { recon: new Float32Array(batch), target: new Float32Array(batch), mu: new Float32Array(batch), [param]: values };
      const r = await runBoth(k, inputs);
      for (const slot of ['loss', 'dMu', grad]) {
        expect((r.gpu[slot] as Float32Array).every(Number.isFinite), `${sigma} ${slot}`).toBe(true);
      }
      const g = r.gpu[grad] as Float32Array;
      const c = r.cpu[grad] as Float32Array;
      // Per element, so large entries do not hide the small ones; relative to
      // the size of the gradient's two terms, since at sigma = 1 they cancel
      // to zero and any f32 rounding is a large fraction of the difference.
      let worst = 0;
      for (let i = 0; i < batch; i++) {
        const v = values[i] as number;
        const sp = softplusParts(v);
        const scale = sigma === 'softplus' ? sp.sigma * sp.sigmoid + sp.sigmoidOverSigma : 0.5 * (Math.exp(v) + 1);
        worst = Math.max(worst, Math.abs((g[i] as number) - (c[i] as number)) / scale);
      }
      expect(worst, `${sigma}: worst error of ${grad}`).toBeLessThanOrEqual(1e-4);
      expect(maxRelError(r.gpu.loss as Float32Array, r.cpu.loss as Float32Array)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('the log-free helpers match float64 references', () => {
    for (let x = -30; x <= 30; x += 0.0625) {
      const sp = softplusParts(x);
      const sigma = Math.log1p(Math.exp(x));
      expect(Math.abs(sp.sigma - sigma) / sigma).toBeLessThan(1e-8);
      expect(Math.abs(sp.lnSigma - Math.log(sigma))).toBeLessThan(1e-8);
      expect(Math.abs(sp.sigmoidOverSigma - 1 / (1 + Math.exp(-x)) / sigma) * sigma).toBeLessThan(1e-8);
      const want = Math.expm1(x) - x;
      expect(Math.abs(expm1MinusX(x) - want) / Math.max(want, 1e-300)).toBeLessThan(1e-8);
    }
    // Where sigma underflows, ln sigma and sigmoid/sigma stay exact in the limit.
    expect(softplusParts(-1000).lnSigma).toBe(-1000);
    expect(softplusParts(-1000).sigmoidOverSigma).toBe(1);
  });

  it('gives the same loss bits on every run (fixed-order reduction)', async () => {
    const p: ElboParams = { batch: 129, features: 300, latent: 10, beta: 1, sigma: 'logvar' };
    const inputs = inputsFor(p, 9);
    const a = (await runBoth(elboKernel(p), inputs)).gpu.loss as Float32Array;
    const b = (await runBoth(elboKernel(p), inputs)).gpu.loss as Float32Array;
    expect([...new Uint32Array(b.buffer)]).toEqual([...new Uint32Array(a.buffer)]);
  });
});

describe('fused ELBO: one dispatch or two, and the per-step loss record', () => {
  it('one dispatch up to a million elements, a second folding partials past that, both matching the CPU', async () => {
    const small = elboKernel({ batch: 64, features: 500, latent: 10, beta: 1, sigma: 'logvar' });
    expect(small.gpu(HEURISTIC_TARGET).length).toBe(1);
    const p: ElboParams = { batch: 129, features: 8200, latent: 10, beta: 0.5, sigma: 'softplus' };
    const big = elboKernel(p);
    expect(big.gpu(HEURISTIC_TARGET).map((d) => d.entryPoint)).toEqual(['gradients', 'finalize']);
    expectGpuMatchesCpu(await runBoth(big, inputsFor(p, 5)), 'softplus');
  });

  for (const features of [37, 8200]) {
    it(`stores the running total into stepLosses[cursor] and skips a cursor past the rows (D=${features})`, async () => {
      const p: ElboParams = { batch: 129, features, latent: 10, beta: 1, sigma: 'logvar', accumulate: true, stepLosses: 3 };
      const k = elboKernel(p);
      const inputs = { ...inputsFor(p, 9), loss: [0.5, 0.25, 0.125] };
      const at = await runBoth(k, { ...inputs, cursor: [1], stepLosses: [7, 7, 7] });
      expectGpuMatchesCpu(at, 'logvar');
      const rows = at.gpu.stepLosses as Float32Array;
      expect(rows[0]).toBe(7);
      expect(rows[2]).toBe(7);
      expect(rows[1]).toBe((at.gpu.loss as Float32Array)[0]);
      expect(maxRelError(rows, at.cpu.stepLosses as Float32Array)).toBeLessThanOrEqual(1e-6);
      const past = await runBoth(k, { ...inputs, cursor: [3], stepLosses: [7, 7, 7] });
      expect(Array.from(past.gpu.stepLosses as Float32Array)).toEqual([7, 7, 7]);
      expect(Array.from(past.cpu.stepLosses as Float32Array)).toEqual([7, 7, 7]);
    });
  }
});

describe('fused ELBO accumulates into a preloaded loss', () => {
  for (const sigma of SIGMAS) {
    it(sigma, async () => {
      const p: ElboParams = { batch: 37, features: 13, latent: 10, beta: 0.3, sigma };
      const inputs = inputsFor(p, 21);
      const preload = [10, -2, 0.5];
      const plain = await runBoth(elboKernel(p), inputs);
      const acc = await runBoth(elboKernel({ ...p, accumulate: true }), { ...inputs, loss: preload });
      expectGpuMatchesCpu(acc, sigma);
      const fresh = plain.cpu.loss as Float32Array;
      const summed = acc.gpu.loss as Float32Array;
      for (let i = 0; i < 3; i++) expect(summed[i]).toBeCloseTo((preload[i] as number) + (fresh[i] as number), 5);
    });
  }

  it('sums three steps recorded into one submit', async () => {
    const p: ElboParams = { batch: 37, features: 13, latent: 10, beta: 0.3, sigma: 'logvar', accumulate: true };
    const kernel = elboKernel(p);
    const plan = new Plan();
    for (const [slot, spec] of Object.entries(kernel.slots)) plan.tensor(slot, spec.shape, spec.dtype);
    plan.call(kernel, Object.fromEntries(Object.keys(kernel.slots).map((s) => [s, s])));
    const exec = await GpuExecutor.create(await getGpu(), plan);
    try {
      for (const [slot, data] of Object.entries(inputsFor(p, 4))) exec.write(slot, data);
      exec.write('loss', [0, 0, 0]);
      await exec.run(3);
      const three = await exec.read('loss');
      const once = runCpu64(elboKernel({ ...p, accumulate: false }), inputsFor(p, 4)).loss as Float64Array;
      expect(maxRelError(three, once.map((v) => 3 * v))).toBeLessThanOrEqual(1e-5);
    } finally {
      exec.destroy();
    }
  });
});

describe('fused ELBO gradients against float64 finite differences of the loss', () => {
  for (const sigma of SIGMAS) {
    it(sigma, () => {
      const p: ElboParams = { batch: 37, features: 13, latent: 10, beta: 0.7, sigma };
      const { param, grad } = sigmaSlotNames(sigma);
      const inputs = inputsFor(p, 31);
      const kernel = elboKernel(p);
      const loss = (inp: Record<string, Float64Array>): number => (runCpu64(kernel, inp).loss as Float64Array)[0] as number;
      const out = runCpu64(kernel, inputs);
      expect(finiteDifferenceError(loss, inputs, 'recon', out.dRecon as Float64Array)).toBeLessThanOrEqual(1e-6);
      expect(finiteDifferenceError(loss, inputs, 'mu', out.dMu as Float64Array)).toBeLessThanOrEqual(1e-6);
      expect(finiteDifferenceError(loss, inputs, param, out[grad] as Float64Array)).toBeLessThanOrEqual(1e-6);
    });
  }
});

describe('fused ELBO with a gradient weight (a term of a larger loss)', () => {
  for (const sigma of SIGMAS) {
    for (const batch of AWKWARD) {
      it(`${sigma} B=${batch}: GPU matches CPU (outputs poisoned with NaN first; B=129 D=8200 takes the two-pass path)`, async () => {
        for (const features of [37, 8200]) {
          const p: ElboParams = { batch, features, latent: 10, beta: 0.75, sigma, gradientWeight: 0.3 };
          expectGpuMatchesCpu(await runBoth(elboKernel(p), inputsFor(p, batch + features)), sigma);
        }
      });
    }
    it(`${sigma}: every gradient is the weight times the unweighted one; the loss slots stay unweighted`, () => {
      const p: ElboParams = { batch: 37, features: 13, latent: 10, beta: 0.7, sigma };
      const inputs = inputsFor(p, 41);
      const one = runCpu64(elboKernel(p), inputs);
      const weighted = runCpu64(elboKernel({ ...p, gradientWeight: 2.5 }), inputs);
      expect(Array.from(weighted.loss as Float64Array)).toEqual(Array.from(one.loss as Float64Array));
      for (const slot of ['dRecon', 'dMu', sigmaSlotNames(sigma).grad]) {
        const a = weighted[slot] as Float64Array;
        const b = one[slot] as Float64Array;
        expect(Math.max(...a.map((v, i) => Math.abs(v - 2.5 * (b[i] as number)))), slot).toBeLessThanOrEqual(1e-15);
      }
      const zero = runCpu64(elboKernel({ ...p, gradientWeight: 0 }), inputs);
      expect((zero.dRecon as Float64Array).every((v) => v === 0)).toBe(true);
    });
  }

  it('refuses a negative or non-finite weight', () => {
    const ok: ElboParams = { batch: 4, features: 3, latent: 2, beta: 1, sigma: 'logvar' };
    expect(() => elboKernel({ ...ok, gradientWeight: -1 })).toThrow('elbo[logvar,×-1]: gradientWeight must be finite and ≥ 0, got -1');
    expect(() => elboKernel({ ...ok, gradientWeight: Number.NaN })).toThrow('gradientWeight must be finite and ≥ 0, got NaN');
  });
});

describe('fused ELBO rejects bad parameters', () => {
  const ok: ElboParams = { batch: 4, features: 3, latent: 2, beta: 1, sigma: 'logvar' };
  it('beta must be finite and non-negative', () => {
    expect(() => elboKernel({ ...ok, beta: -0.1 })).toThrow('elbo[logvar]: beta must be finite and ≥ 0, got -0.1');
    expect(() => elboKernel({ ...ok, beta: Number.NaN })).toThrow('elbo[logvar]: beta must be finite and ≥ 0, got NaN');
    expect(() => elboKernel({ ...ok, beta: Number.POSITIVE_INFINITY, accumulate: true })).toThrow(
      'elbo[logvar,+=]: beta must be finite and ≥ 0, got Infinity',
    );
  });

  it('sizes and sigma', () => {
    expect(() => elboKernel({ ...ok, batch: 0 })).toThrow('elbo[logvar]: batch must be a positive integer, got 0');
    expect(() => elboKernel({ ...ok, features: 2.5 })).toThrow('elbo[logvar]: features must be a positive integer, got 2.5');
    expect(() => elboKernel({ ...ok, latent: -1 })).toThrow('elbo[logvar]: latent must be a positive integer, got -1');
    expect(() => elboKernel({ ...ok, sigma: 'tanh' as SigmaParam })).toThrow(
      "elbo[tanh]: sigma must be 'logvar' or 'softplus', got 'tanh'",
    );
  });

  it('a plan rejects a wrong-shaped tensor, naming it and both shapes', () => {
    const plan = new Plan();
    const shapes: Record<string, number[]> = {
      recon: [4, 3],
      target: [4, 3],
      mu: [4, 2],
      s: [4, 2],
      loss: [3],
      dRecon: [4, 3],
      dMu: [2, 4],
      dS: [4, 2],
    };
    for (const [name, shape] of Object.entries(shapes)) plan.tensor(name, shape);
    const bind = Object.fromEntries(Object.keys(shapes).map((s) => [s, s]));
    expect(() => plan.call(elboKernel({ ...ok, sigma: 'softplus' }), bind)).toThrow(
      'elbo[softplus]: tensor "dMu" (slot "dMu") has shape [2, 4], the kernel expects [4, 2]',
    );
    expect(() => plan.call(elboKernel(ok), bind)).toThrow('elbo[logvar]: has no slot "s"');
  });
});
