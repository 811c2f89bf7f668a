import type { FloatArray } from '../kernels/kernel.ts';

// CPU twin of shaders/lib/activation_fn.wgsl and shaders/activation.wgsl.
// Works in float32 or float64 storage (the finite-difference checks use 64).

export type ActivationName = 'none' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid' | 'softplus';

export interface Activation {
  readonly kind: ActivationName;
  /** Negative slope of leaky_relu; ignored by the others. */
  readonly alpha?: number;
}

/** The `kind` codes the WGSL switch uses. */
export const ACTIVATION_CODES: Readonly<Record<ActivationName, number>> = {
  none: 0,
  relu: 1,
  leaky_relu: 2,
  tanh: 3,
  sigmoid: 4,
  softplus: 5,
};

export function activationCode(act: Activation): { code: number; alpha: number } {
  const code = ACTIVATION_CODES[act.kind];
  if (code === undefined) throw new Error(`unknown activation "${String(act.kind)}"`);
  const alpha = act.alpha ?? 0;
  // The backward pass reads the sign of x off the output y, which needs alpha > 0.
  if (act.kind === 'leaky_relu' && !(alpha > 0 && alpha < 1)) {
    throw new Error(`leaky_relu alpha must be in (0, 1), got ${alpha}`);
  }
  return { code, alpha };
}

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
