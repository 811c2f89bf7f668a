import type { FloatArray } from '../kernels/kernel.ts';
import { type Activation, activate } from './activation.ts';

// CPU twin of shaders/matmul.wgsl. The GPU's tiles only decide which
// invocation computes which output; every output still sums k = 0 .. K-1 in
// order, as here. Sums are kept in JS numbers (float64).

export interface MatmulSpec {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** A is stored [K, M] instead of [M, K]. */
  readonly transA: boolean;
  /** B is stored [N, K] instead of [K, N]. */
  readonly transB: boolean;
  readonly activation: Activation;
  /** C += op(A)·op(B), with no bias or activation. */
  readonly accumulate: boolean;
}

/** Where op(A)[row, k] lives in a. */
export function aIndex(p: MatmulSpec, row: number, k: number): number {
  return p.transA ? k * p.M + row : row * p.K + k;
}

/** Where op(B)[k, col] lives in b. */
export function bIndex(p: MatmulSpec, k: number, col: number): number {
  return p.transB ? col * p.K + k : k * p.N + col;
}

/** C[M,N] = act(op(A)·op(B) + bias[N]), or C += op(A)·op(B) when accumulating. */
export function matmul(p: MatmulSpec, a: FloatArray, b: FloatArray, bias: FloatArray | undefined, c: FloatArray): void {
  const { M, N, K } = p;
  const kind = p.activation.kind;
  const alpha = p.activation.alpha ?? 0;
  for (let row = 0; row < M; row++) {
    for (let col = 0; col < N; col++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        sum += (a[aIndex(p, row, k)] as number) * (b[bIndex(p, k, col)] as number);
      }
      if (p.accumulate) {
        c[row * N + col] = (c[row * N + col] as number) + sum;
      } else if (bias !== undefined) {
        c[row * N + col] = activate(sum + (bias[col] as number), kind, alpha);
      } else {
        c[row * N + col] = activate(sum, kind, alpha);
      }
    }
  }
}
