import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/adam.wgsl, line for line (Math.expm1 stands in for the
// shader's series).

export interface AdamOptions {
  readonly n: number;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** AdamW: decay the parameters directly instead of adding weightDecay·p to the gradient. */
  readonly decoupled: boolean;
  /** t = step + stepOffset: 1 when the step counter is bumped after this kernel rather than before. */
  readonly stepOffset?: 0 | 1;
}

/** The uniform block's values, derived once on the host in f64. */
export interface AdamHyper {
  readonly n: number;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly oneMinusBeta1: number;
  readonly oneMinusBeta2: number;
  readonly logBeta1: number;
  readonly logBeta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decay: number;
}

/** ln(beta), with beta = 0 mapped to a finite stand-in whose power is 0 for every t >= 1
 * (the GPU is not required to handle infinities). */
function logBeta(beta: number): number {
  return beta === 0 ? -1000 : Math.log(beta);
}

export function adamHyper(o: AdamOptions): AdamHyper {
  return {
    n: o.n,
    lr: o.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    oneMinusBeta1: 1 - o.beta1,
    oneMinusBeta2: 1 - o.beta2,
    logBeta1: logBeta(o.beta1),
    logBeta2: logBeta(o.beta2),
    eps: o.eps,
    weightDecay: o.weightDecay,
    decay: 1 - o.lr * o.weightDecay,
  };
}

/** 1 - beta^t = -expm1(t·ln beta), without cancellation at small t. */
export function oneMinusPow(logBeta: number, t: number): number {
  return -Math.expm1(t * logBeta);
}

export function adamStep(
  hyper: AdamHyper,
  decoupled: boolean,
  params: FloatArray,
  grads: FloatArray,
  m: FloatArray,
  v: FloatArray,
  step: Uint32Array,
  stepOffset = 0,
): void {
  const t = (step[0] as number) + stepOffset;
  const biasCorrection1 = oneMinusPow(hyper.logBeta1, t);
  const biasCorrection2 = oneMinusPow(hyper.logBeta2, t);
  for (let i = 0; i < hyper.n; i++) {
    let p = params[i] as number;
    let g = grads[i] as number;
    if (decoupled) p = p * hyper.decay;
    else g = g + hyper.weightDecay * p;
    const mNew = hyper.beta1 * (m[i] as number) + hyper.oneMinusBeta1 * g;
    const vNew = hyper.beta2 * (v[i] as number) + hyper.oneMinusBeta2 * g * g;
    m[i] = mNew;
    v[i] = vNew;
    const denom = Math.sqrt(vNew) / Math.sqrt(biasCorrection2) + hyper.eps;
    params[i] = p - (hyper.lr / biasCorrection1) * (mNew / denom);
  }
}
