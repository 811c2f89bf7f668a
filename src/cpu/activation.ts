import type { FloatArray } from '../core/tensor.ts';
import type { Activation, ActivationName } from '../core/activation.ts';

export { ACTIVATION_CODES, type Activation, type ActivationName, activationCode } from '../core/activation.ts';

// CPU twin of shaders/lib/activation_fn.wgsl and shaders/activation.wgsl.
// Works in float32 or float64 storage (the finite-difference checks use 64).

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

export function activate(x: number, kind: ActivationName, alpha: number): number {
  switch (kind) {
    case 'relu': return Math.max(x, 0);
    case 'leaky_relu': return x > 0 ? x : alpha * x;
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return sigmoid(x);
    case 'softplus': return softplus(x);
    default: return x;
  }
}

export function activateGradFromOutput(y: number, kind: ActivationName, alpha: number): number {
  switch (kind) {
    case 'relu': return y > 0 ? 1 : 0;
    case 'leaky_relu': return y > 0 ? 1 : alpha;
    case 'tanh': return 1 - y * y;
    case 'sigmoid': return y * (1 - y);
    case 'softplus': return -Math.expm1(-y);
    default: return 1;
  }
}

export function activationForward(act: Activation, x: FloatArray, y: FloatArray): void {
  const alpha = act.alpha ?? 0;
  for (let i = 0; i < x.length; i++) y[i] = activate(x[i] as number, act.kind, alpha);
}

export function activationBackward(act: Activation, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
  const alpha = act.alpha ?? 0;
  for (let i = 0; i < y.length; i++) dx[i] = (dy[i] as number) * activateGradFromOutput(y[i] as number, act.kind, alpha);
}
