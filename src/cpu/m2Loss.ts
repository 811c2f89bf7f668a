import type { FloatArray } from '../core/tensor.ts';
import { sigmoid, softplus } from './activation.ts';
import { klGrad, klTerm } from './elbo.ts';
import { labelOfRow } from './labelConcat.ts';

// CPU twin of shaders/m2_loss.wgsl: the loss of Kingma et al.'s (2014) M2 for
// one step and every gradient, over the rows label_concat lays out: B labeled
// rows (their own y), then U unlabeled rows as y = 0, then the same U as y = 1.
//   L_r   = reconWeight·Σ_d (recon_rd − x_rd)² + klWeight·Σ_j KL(mu_rj, logvar_rj)   (−ELBO of row r)
//   loss  = Σ_b [labeledWeight·L_b + classWeight·BCE(ℓ_b, y_b)]
//         + unlabeledWeight·Σ_u [q0·L_{B+u} + q1·L_{B+U+u} − H(q)],  q1 = σ(ℓ_{B+u}), q0 = 1 − q1
// where ℓ are the classifier's logits over the B + U distinct genes.
// Gradients: each row's reconstruction and latent gradients are its weight
// (labeledWeight, or unlabeledWeight·q_y) times those of L_r; dℓ_b =
// classWeight·(σ(ℓ_b) − y_b); dℓ_{B+u} = unlabeledWeight·q0·q1·(L_{B+U+u} − L_{B+u} + ℓ_{B+u})
// (d(−H)/dq1 = ln(q1/q0) = ℓ).

export interface M2LossSpec {
  readonly labeled: number;
  readonly unlabeled: number;
  readonly reconWeight: number;
  readonly klWeight: number;
  readonly labeledWeight: number;
  readonly classWeight: number;
  readonly unlabeledWeight: number;
  readonly accumulate: boolean;
}

/** Softplus-based log q: ln σ(ℓ) = −softplus(−ℓ), ln(1 − σ(ℓ)) = −softplus(ℓ). */
export function negativeEntropy(logit: number): number {
  const q1 = sigmoid(logit);
  return -(q1 * softplus(-logit) + (1 - q1) * softplus(logit));
}

/** One row's −ELBO L_r (x row `src`). */
function rowLoss(s: M2LossSpec, recon: FloatArray, x: FloatArray, mu: FloatArray, logvar: FloatArray, r: number, src: number, D: number, Z: number): number {
  let sq = 0;
  for (let d = 0; d < D; d++) {
    const e = (recon[r * D + d] as number) - (x[src * D + d] as number);
    sq += e * e;
  }
  let kl = 0;
  for (let j = 0; j < Z; j++) kl += klTerm(mu[r * Z + j] as number, logvar[r * Z + j] as number, 'logvar');
  return s.reconWeight * sq + s.klWeight * kl;
}

export function m2Loss(
  s: M2LossSpec,
  t: {
    readonly recon: FloatArray;
    readonly x: FloatArray;
    readonly mu: FloatArray;
    readonly logvar: FloatArray;
    readonly logits: FloatArray;
    readonly y: FloatArray;
    readonly loss: FloatArray;
    readonly dRecon: FloatArray;
    readonly dMu: FloatArray;
    readonly dLogvar: FloatArray;
    readonly dLogits: FloatArray;
  },
  stepLosses?: { readonly cursor: Uint32Array; readonly rows: FloatArray },
): void {
  const B = s.labeled;
  const U = s.unlabeled;
  const N = B + 2 * U;
  const D = t.recon.length / N;
  const Z = t.mu.length / N;
  const rows = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    const src = r >= B + U ? r - U : r;
    let weight = s.labeledWeight;
    if (r >= B) {
      const q1 = sigmoid(t.logits[src] as number);
      weight = s.unlabeledWeight * (r >= B + U ? q1 : 1 - q1);
    }
    for (let d = 0; d < D; d++) {
      t.dRecon[r * D + d] = weight * s.reconWeight * 2 * ((t.recon[r * D + d] as number) - (t.x[src * D + d] as number));
    }
    for (let j = 0; j < Z; j++) {
      t.dMu[r * Z + j] = weight * s.klWeight * (t.mu[r * Z + j] as number);
      t.dLogvar[r * Z + j] = weight * s.klWeight * klGrad(t.logvar[r * Z + j] as number, 'logvar');
    }
    rows[r] = rowLoss(s, t.recon, t.x, t.mu, t.logvar, r, src, D, Z);
  }
  let total = 0;
  for (let b = 0; b < B; b++) {
    const z = t.logits[b] as number;
    const y = labelOfRow(s, t.y, b);
    total += s.labeledWeight * (rows[b] as number) + s.classWeight * (Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z))));
    t.dLogits[b] = s.classWeight * ((1 - y) * sigmoid(z) - y * sigmoid(-z));
  }
  for (let u = 0; u < U; u++) {
    const z = t.logits[B + u] as number;
    const q1 = sigmoid(z);
    const q0 = sigmoid(-z);
    const l0 = rows[B + u] as number;
    const l1 = rows[B + U + u] as number;
    total += s.unlabeledWeight * (q0 * l0 + q1 * l1 + negativeEntropy(z));
    t.dLogits[B + u] = s.unlabeledWeight * q0 * q1 * (l1 - l0 + z);
  }
  t.loss[0] = s.accumulate ? (t.loss[0] as number) + total : total;
  if (stepLosses) {
    const row = stepLosses.cursor[0] as number;
    if (row < stepLosses.rows.length) stepLosses.rows[row] = t.loss[0] as number;
  }
}
