import { describe, expect, it } from 'vitest';
import { type M2LossParams, m2LossKernel } from '../src/kernels/m2Loss.ts';
import { labelConcatBackwardKernel, labelConcatKernel } from '../src/kernels/labelConcat.ts';
import { AWKWARD, finiteDifferenceError, maxRelError, randomArray, rng, runBoth, runCpu64 } from './helpers.ts';

// The two kernels of the semi-supervised VAE (vae-m2): the label-conditioned
// rows and the M2 loss. GPU against the CPU twin on awkward sizes (every
// output poisoned with NaN first by runBoth), the loss against the formula
// written out in float64, and every gradient against finite differences.

const labels = (n: number, seed: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
};

describe('label_concat, GPU against CPU', () => {
  for (const labeled of AWKWARD) {
    for (const unlabeled of AWKWARD) {
      for (const tiled of [true, false]) {
        it(`B=${labeled} U=${unlabeled} width=37 ${tiled ? 'tiled' : 'per row'}`, async () => {
          const s = { labeled, unlabeled, width: 37, tiled };
          const inRows = tiled ? labeled + unlabeled : labeled + 2 * unlabeled;
          const f = await runBoth(labelConcatKernel(s), { input: randomArray(inRows * 37, labeled + unlabeled, -2, 2), y: labels(labeled, unlabeled) });
          expect(maxRelError(f.gpu.output as Float32Array, f.cpu.output as Float32Array)).toBe(0);
          const dOut = randomArray((labeled + 2 * unlabeled) * 39, 7, -1, 1);
          const b = await runBoth(labelConcatBackwardKernel(s), { dOutput: dOut });
          expect(maxRelError(b.gpu.dInput as Float32Array, b.cpu.dInput as Float32Array)).toBeLessThanOrEqual(1e-6);
        });
      }
    }
  }

  it('lays out labeled rows, then the unlabeled as y = 0, then as y = 1; backward sums the two uses', () => {
    const s = { labeled: 1, unlabeled: 2, width: 2, tiled: true };
    const out = runCpu64(labelConcatKernel(s), { input: [1, 2, 3, 4, 5, 6], y: [1] });
    expect(Array.from(out.output as Float64Array)).toEqual([1, 2, 0, 1, 3, 4, 1, 0, 5, 6, 1, 0, 3, 4, 0, 1, 5, 6, 0, 1]);
    const back = runCpu64(labelConcatBackwardKernel(s), { dOutput: Array.from({ length: 20 }, (_, i) => i) });
    // Row 0 = out row 0; rows 1, 2 = out rows 1, 2 plus out rows 3, 4; the one-hot columns carry nothing.
    expect(Array.from(back.dInput as Float64Array)).toEqual([0, 1, 4 + 12, 5 + 13, 8 + 16, 9 + 17]);
  });
});

function lossInputs(p: M2LossParams, seed: number): Record<string, Float32Array> {
  const N = p.labeled + 2 * p.unlabeled;
  const R = p.labeled + p.unlabeled;
  return {
    recon: randomArray(N * p.features, seed, -1, 1),
    x: randomArray(R * p.features, seed + 1, -1, 1),
    mu: randomArray(N * p.latent, seed + 2, -2, 2),
    logvar: randomArray(N * p.latent, seed + 3, -3, 2),
    logits: randomArray(R, seed + 4, -4, 4),
    y: labels(p.labeled, seed + 5),
  };
}

const weights = { reconWeight: 1.5, klWeight: 0.75, labeledWeight: 0.3, classWeight: 2, unlabeledWeight: 0.6 };

/** The M2 loss in float64 straight from its definition (Kingma et al. 2014, eqs. 6–9, with the classification term):
 * L(x, y) = reconWeight·‖x − x̂_y‖² + klWeight·KL(q(z|x,y) ‖ N(0, I)),  U(x) = Σ_y q(y|x)·L(x, y) − H(q(y|x)). */
function referenceLoss(p: M2LossParams, t: Record<string, ArrayLike<number>>): number {
  const { labeled: B, unlabeled: U, features: D, latent: Z } = p;
  const at = (a: ArrayLike<number>, i: number): number => a[i] as number;
  const L = (row: number, xRow: number): number => {
    let sq = 0;
    for (let d = 0; d < D; d++) sq += (at(t.recon!, row * D + d) - at(t.x!, xRow * D + d)) ** 2;
    let kl = 0;
    for (let j = 0; j < Z; j++) {
      const m = at(t.mu!, row * Z + j);
      const lv = at(t.logvar!, row * Z + j);
      kl += -0.5 * (1 + lv - m * m - Math.exp(lv));
    }
    return p.reconWeight * sq + p.klWeight * kl;
  };
  let total = 0;
  for (let b = 0; b < B; b++) {
    const q1 = 1 / (1 + Math.exp(-at(t.logits!, b)));
    const y = at(t.y!, b);
    total += p.labeledWeight * L(b, b) + p.classWeight * -(y * Math.log(q1) + (1 - y) * Math.log(1 - q1));
  }
  for (let u = 0; u < U; u++) {
    const q1 = 1 / (1 + Math.exp(-at(t.logits!, B + u)));
    const q0 = 1 - q1;
    const entropy = -(q0 * Math.log(q0) + q1 * Math.log(q1));
    total += p.unlabeledWeight * (q0 * L(B + u, B + u) + q1 * L(B + U + u, B + u) - entropy);
  }
  return total;
}

describe('M2 loss, GPU against CPU', () => {
  for (const labeled of AWKWARD) {
    for (const unlabeled of AWKWARD) {
      it(`B=${labeled} U=${unlabeled} D=37 Z=10`, async () => {
        const p: M2LossParams = { labeled, unlabeled, features: 37, latent: 10, ...weights, accumulate: true, stepLosses: 3 };
        const r = await runBoth(m2LossKernel(p), { ...lossInputs(p, labeled * 7 + unlabeled), loss: [0.5], cursor: [1], stepLosses: [9, 9, 9] });
        for (const slot of ['loss', 'dRecon', 'dMu', 'dLogvar', 'dLogits', 'stepLosses']) {
          expect(maxRelError(r.gpu[slot] as Float32Array, r.cpu[slot] as Float32Array), slot).toBeLessThanOrEqual(1e-4);
        }
        const steps = r.gpu.stepLosses as Float32Array;
        expect([steps[0], steps[2]]).toEqual([9, 9]);
        expect(steps[1]).toBe((r.gpu.loss as Float32Array)[0]);
      });
    }
  }

  it('writes the loss without accumulate, and with many rows (a folded-free grid of 2·129 + 129 workgroups)', async () => {
    const p: M2LossParams = { labeled: 129, unlabeled: 129, features: 105, latent: 10, ...weights };
    const r = await runBoth(m2LossKernel(p), lossInputs(p, 3));
    expect(maxRelError(r.gpu.loss as Float32Array, r.cpu.loss as Float32Array)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(r.gpu.dLogits as Float32Array, r.cpu.dLogits as Float32Array)).toBeLessThanOrEqual(1e-4);
  });
});

describe('M2 loss against its definition in float64', () => {
  const p: M2LossParams = { labeled: 3, unlabeled: 4, features: 5, latent: 2, ...weights };
  const inputs = lossInputs(p, 11);
  const out = runCpu64(m2LossKernel(p), inputs);
  const f = (t: Record<string, Float64Array>): number => referenceLoss(p, t);

  it('the loss is Σ_l [L + α·BCE] + Σ_u [Σ_y q(y|x)·L(x, y) − H(q)]', () => {
    expect(maxRelError(out.loss as Float64Array, [referenceLoss(p, inputs)])).toBeLessThanOrEqual(1e-12);
  });

  for (const [wrt, grad] of [['recon', 'dRecon'], ['mu', 'dMu'], ['logvar', 'dLogvar'], ['logits', 'dLogits']] as const) {
    it(`d loss / d ${wrt} matches central differences`, () => {
      expect(finiteDifferenceError(f, inputs, wrt, out[grad] as Float64Array)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('a hand case: one labeled and one unlabeled gene at q = ½', () => {
    const q: M2LossParams = { labeled: 1, unlabeled: 1, features: 1, latent: 1, reconWeight: 1, klWeight: 1, labeledWeight: 1, classWeight: 1, unlabeledWeight: 1 };
    // Rows: labeled (recon 1 vs x 0), unlabeled as y=0 (recon 2 vs 0.5), as y=1 (recon 0 vs 0.5); mu = logvar = 0 (KL 0); logits 0.
    const o = runCpu64(m2LossKernel(q), { recon: [1, 2, 0], x: [0, 0.5], mu: [0, 0, 0], logvar: [0, 0, 0], logits: [0, 0], y: [1] });
    // 1 + ln 2 (labeled: L + BCE at q = ½) + ½·2.25 + ½·0.25 − ln 2.
    expect((o.loss as Float64Array)[0]).toBeCloseTo(1 + 1.125 + 0.125, 12);
    // dℓ_u = q0·q1·(L1 − L0 + ℓ) = ¼·(0.25 − 2.25).
    expect((o.dLogits as Float64Array)[1]).toBeCloseTo(-0.5, 12);
  });
});
