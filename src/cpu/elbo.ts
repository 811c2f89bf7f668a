import type { FloatArray } from '../core/tensor.ts';
import type { SigmaParam } from './reparam.ts';

// CPU twin of shaders/elbo.wgsl: the VAE loss and every gradient in one pass.
//   loss = MSE + beta·KL,  MSE = Σ (recon - target)² / (B·D),
//   KL   = Σ_b Σ_j -½(1 + ln σ² - μ² - σ²) / B,
// with σ² = exp(logvar), or σ = softplus(s). loss = (total, MSE, KL): the KL
// entry is not multiplied by beta.

// The helpers mirror shaders/elbo.wgsl, which avoids GPU log near 1 (WGSL
// only promises an absolute error of 2^-21 there) and stays finite everywhere.

/** exp(x) - 1 - x without cancellation: Taylor series below |x| = 0.5, direct beyond. */
export function expm1MinusX(x: number): number {
  if (Math.abs(x) < 0.5) {
    return x * x * (1 / 2 + x * (1 / 6 + x * (1 / 24 + x * (1 / 120 + x * (1 / 720
      + x * (1 / 5040 + x * (1 / 40320 + x * (1 / 362880))))))));
  }
  return Math.exp(x) - 1 - x;
}

/** log1p(u)/u for 0 ≤ u ≤ 1 without a logarithm: 2·atanh(t)/u, t = u/(2 + u) ≤ 1/3. */
export function log1pOverU(u: number): number {
  const t = u / (2 + u);
  const t2 = t * t;
  const series = 1 + t2 * (1 / 3 + t2 * (1 / 5 + t2 * (1 / 7 + t2 * (1 / 9
    + t2 * (1 / 11 + t2 * (1 / 13 + t2 * (1 / 15)))))));
  return (2 / (2 + u)) * series;
}

export interface SoftplusParts {
  readonly sigma: number;
  readonly lnSigma: number;
  readonly sigmoidOverSigma: number;
  readonly sigmoid: number;
}

/** sigma = softplus(s), ln sigma, sigmoid(s)/sigma and sigmoid(s). */
export function softplusParts(s: number): SoftplusParts {
  const u = Math.exp(-Math.abs(s));
  const q = log1pOverU(u);
  if (s <= 0) {
    // sigma = log1p(e^s) = u·q, so ln sigma = s + ln q stays finite where sigma underflows.
    return { sigma: u * q, lnSigma: s + Math.log(q), sigmoidOverSigma: 1 / ((1 + u) * q), sigmoid: u / (1 + u) };
  }
  const sd = s + u * q;
  const sg = 1 / (1 + u);
  return { sigma: sd, lnSigma: Math.log(sd), sigmoidOverSigma: sg / sd, sigmoid: sg };
}

/** One latent element's KL term -½(1 + ln σ² - μ² - σ²). */
export function klTerm(mu: number, p: number, sigma: SigmaParam): number {
  if (sigma === 'softplus') {
    const sp = softplusParts(p);
    return 0.5 * (mu * mu + sp.sigma * sp.sigma - 1 - 2 * sp.lnSigma);
  }
  return 0.5 * (mu * mu + expm1MinusX(p));
}

/** d klTerm / dp: ½(exp(logvar) - 1), or (σ - 1/σ)·sigmoid(s). */
export function klGrad(p: number, sigma: SigmaParam): number {
  if (sigma === 'softplus') {
    const sp = softplusParts(p);
    return sp.sigma * sp.sigmoid - sp.sigmoidOverSigma;
  }
  return 0.5 * (p + expm1MinusX(p));
}

export interface ElboSpec {
  readonly batch: number;
  readonly beta: number;
  readonly sigma: SigmaParam;
  readonly accumulate: boolean;
  /** Scales every gradient, not the loss (default 1). */
  readonly gradientWeight?: number;
}

export function elbo(
  spec: ElboSpec,
  recon: FloatArray,
  target: FloatArray,
  mu: FloatArray,
  sigmaParam: FloatArray,
  loss: FloatArray,
  dRecon: FloatArray,
  dMu: FloatArray,
  dSigmaParam: FloatArray,
  stepLosses?: { readonly cursor: Uint32Array; readonly rows: FloatArray },
): void {
  const reconN = recon.length;
  const weight = spec.gradientWeight ?? 1;
  const reconGradScale = (weight * 2) / reconN;
  const klGradScale = (weight * spec.beta) / spec.batch;
  let sqSum = 0;
  for (let i = 0; i < reconN; i++) {
    const d = (recon[i] as number) - (target[i] as number);
    dRecon[i] = reconGradScale * d;
    sqSum += d * d;
  }
  let klSum = 0;
  for (let j = 0; j < mu.length; j++) {
    const m = mu[j] as number;
    const p = sigmaParam[j] as number;
    dMu[j] = klGradScale * m;
    dSigmaParam[j] = klGradScale * klGrad(p, spec.sigma);
    klSum += klTerm(m, p, spec.sigma);
  }
  const mse = sqSum / reconN;
  const kl = klSum / spec.batch;
  const total = mse + spec.beta * kl;
  if (spec.accumulate) {
    loss[0] = (loss[0] as number) + total;
    loss[1] = (loss[1] as number) + mse;
    loss[2] = (loss[2] as number) + kl;
  } else {
    loss[0] = total;
    loss[1] = mse;
    loss[2] = kl;
  }
  if (stepLosses) {
    const row = stepLosses.cursor[0] as number;
    if (row < stepLosses.rows.length) stepLosses.rows[row] = loss[0] as number;
  }
}
