import type { FloatArray } from '../core/tensor.ts';
import { type Activation, activate, activateGradFromOutput } from './activation.ts';

// CPU twin of shaders/matmul.wgsl. The GPU's variants only decide which
// invocation computes which output and in which order it adds the depth (the
// split-K variant adds its splits in order); here every output sums k = 0 ..
// K-1 in order, in JS numbers (float64).

export interface MatmulSpec {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** A is stored [K, M] instead of [M, K]. */
  readonly transA: boolean;
  /** B is stored [N, K] instead of [K, N]. */
  readonly transB: boolean;
  /** The epilogue's activation; with `gate`, the activation whose derivative gates that operand. */
  readonly activation: Activation;
  /** C += op(A)·op(B), with no bias or activation. */
  readonly accumulate: boolean;
  /** Multiply operand A or B elementwise by act'(y), y stored like it (GATE_A / GATE_B). */
  readonly gate?: 'A' | 'B';
  /** db[N] = the column sums of op(B) (BIAS_GRAD_ROW: a row of ones appended to op(A)). */
  readonly biasGradRow?: boolean;
}

/** Where op(A)[row, k] lives in a. */
export function aIndex(p: MatmulSpec, row: number, k: number): number {
  return p.transA ? k * p.M + row : row * p.K + k;
}

/** Where op(B)[k, col] lives in b. */
export function bIndex(p: MatmulSpec, k: number, col: number): number {
  return p.transB ? col * p.K + k : k * p.N + col;
}

function gated(v: FloatArray, act: Activation, y: FloatArray): FloatArray {
  const out = v instanceof Float64Array ? new Float64Array(v.length) : new Float32Array(v.length);
  const alpha = act.alpha ?? 0;
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * activateGradFromOutput(y[i] as number, act.kind, alpha);
  return out;
}

/** C[M,N] = act(op(A)·op(B) + bias[N]), or C += op(A)·op(B) when accumulating;
 * with `gate`, C = op(A)·op(B) of the gated operand; with `biasGradRow`, also db. */
export function matmul(
  p: MatmulSpec,
  a: FloatArray,
  b: FloatArray,
  bias: FloatArray | undefined,
  c: FloatArray,
  gate?: FloatArray,
  db?: FloatArray,
): void {
  const { M, N, K } = p;
  const kind = p.activation.kind;
  const alpha = p.activation.alpha ?? 0;
  const ga = p.gate === 'A' ? gated(a, p.activation, gate as FloatArray) : a;
  const gb = p.gate === 'B' ? gated(b, p.activation, gate as FloatArray) : b;
  for (let row = 0; row < M; row++) {
    for (let col = 0; col < N; col++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        sum += (ga[aIndex(p, row, k)] as number) * (gb[bIndex(p, k, col)] as number);
      }
      if (p.accumulate) {
        c[row * N + col] = (c[row * N + col] as number) + sum;
      } else if (p.gate !== undefined) {
        c[row * N + col] = sum;
      } else if (bias !== undefined) {
        c[row * N + col] = activate(sum + (bias[col] as number), kind, alpha);
      } else {
        c[row * N + col] = activate(sum, kind, alpha);
      }
    }
  }
  if (p.biasGradRow && db) {
    for (let col = 0; col < N; col++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += gb[bIndex(p, k, col)] as number;
      db[col] = p.accumulate ? (db[col] as number) + sum : sum;
    }
  }
}
