import type { FloatArray, HostArray } from '../core/tensor.ts';

// CPU twin of shaders/reduce.wgsl. The GPU splits each sum into chunks,
// lanes and a fixed tree; the twin adds the same terms in plain order in f64,
// which is the reference those orders are measured against.

export interface SumRowsSizes {
  readonly rows: number;
  readonly cols: number;
  readonly accumulate: boolean;
}

/** out[col] (+)= Σ_r x[r, col] over row-major x [rows, cols]. */
export function sumRows(s: SumRowsSizes, src: FloatArray, dst: FloatArray): void {
  for (let col = 0; col < s.cols; col++) {
    let acc = 0;
    for (let r = 0; r < s.rows; r++) acc += src[r * s.cols + col] as number;
    const total = acc;
    dst[col] = s.accumulate ? (dst[col] as number) + total : total;
  }
}

export interface SumAllSizes {
  readonly n: number;
  readonly scale: number;
  readonly accumulate: boolean;
  /** Sum src[i]² instead of src[i] (a gradient's squared norm). */
  readonly squares?: boolean;
}

/** dst[0] (+)= scale · Σ src (or Σ src², `squares`). */
export function sumAll(s: SumAllSizes, src: FloatArray, dst: FloatArray): void {
  let acc = 0;
  for (let i = 0; i < s.n; i++) {
    const v = src[i] as number;
    acc += s.squares ? v * v : v;
  }
  const total = acc;
  dst[0] = s.accumulate ? (dst[0] as number) + s.scale * total : s.scale * total;
}

export function fill(n: number, value: number, out: HostArray): void {
  for (let i = 0; i < n; i++) out[i] = value;
}
