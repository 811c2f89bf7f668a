// What an activation is and the code the WGSL switch knows it by; the CPU twins
// (src/cpu/activation.ts) and the kernel factories both build on this.

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

