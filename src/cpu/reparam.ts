import type { FloatArray } from '../core/tensor.ts';
import type { SigmaParam } from '../core/checks.ts';

export { SIGMA_PARAMS, type SigmaParam, requireSigmaParam, sigmaSlotNames } from '../core/checks.ts';
import { sigmoid, softplus } from './activation.ts';
import { STREAM_NORMAL, normal4, philoxBlock } from './philox.ts';

// CPU twin of shaders/reparam.wgsl: z = mu + sigma·eps with eps the standard
// normal of element b·Z + j at (seed, step), and its backward pass.

/** How the encoder's second head parameterises sigma. */
/** sigma = exp(logvar / 2), or softplus(s). */
export function sigmaOf(p: number, sigma: SigmaParam): number {
  return sigma === 'softplus' ? softplus(p) : Math.exp(0.5 * p);
}

/** d sigma / d p. */
export function sigmaGrad(p: number, sigma: SigmaParam): number {
  return sigma === 'softplus' ? sigmoid(p) : 0.5 * Math.exp(0.5 * p);
}

export function reparamForward(
  seed: number,
  sigma: SigmaParam,
  step: number,
  mu: FloatArray,
  sigmaParam: FloatArray,
  eps: FloatArray,
  z: FloatArray,
): void {
  const n = mu.length;
  for (let g = 0; 4 * g < n; g++) {
    const first = 4 * g;
    const e = normal4(philoxBlock(seed, STREAM_NORMAL, step, g));
    for (let k = 0; k < 4; k++) {
      const i = first + k;
      if (i < n) {
        eps[i] = e[k] as number;
        z[i] = (mu[i] as number) + sigmaOf(sigmaParam[i] as number, sigma) * (e[k] as number);
      }
    }
  }
}

/** dmu = dz; d(param) = dz·eps·dsigma/dparam, with the forward pass's eps; or += both. */
export function reparamBackward(
  sigma: SigmaParam,
  dz: FloatArray,
  eps: FloatArray,
  sigmaParam: FloatArray,
  dMu: FloatArray,
  dSigmaParam: FloatArray,
  accumulate = false,
): void {
  for (let i = 0; i < dz.length; i++) {
    const dm = dz[i] as number;
    const ds = (dz[i] as number) * (eps[i] as number) * sigmaGrad(sigmaParam[i] as number, sigma);
    dMu[i] = accumulate ? (dMu[i] as number) + dm : dm;
    dSigmaParam[i] = accumulate ? (dSigmaParam[i] as number) + ds : ds;
  }
}
