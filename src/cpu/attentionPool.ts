import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/attention_pool.wgsl: softmax attention pooling of
// sequences with a learned context vector per group, AttentiveChrome's
// (scores h_t · context, no tanh). Positions t >= valid are masked out:
// their weight is 0 and they get no gradient.
//
// Layout (row r = (b·T + t)·G + g, as src/cpu/lstm.ts writes hs):
//   h       [B, T, G, D]
//   context [G, D]
//   pooled  [B, G, D]   Σ_t alpha_t · h_t
//   alpha   [B, G, T]   the attention weights (a gene's marks × bins map)
//   dscore  [B, G, T]   the gradient of the scores, kept for the context's

export interface AttentionPoolSizes {
  readonly batch: number;
  readonly length: number;
  readonly groups: number;
  readonly width: number;
  /** Positions that count, ≤ length; the rest are padding. Default: all. */
  readonly valid?: number;
}

export const validOf = (s: AttentionPoolSizes): number => s.valid ?? s.length;
const row = (s: AttentionPoolSizes, b: number, t: number, g: number): number => (b * s.length + t) * s.groups + g;

/** One workgroup per sequence (b, g): the scores, their softmax (max subtracted), the weighted sum. */
export function attentionPoolForward(s: AttentionPoolSizes, h: FloatArray, context: FloatArray, pooled: FloatArray, alpha: FloatArray): void {
  const { groups: G, width: D, length: T } = s;
  const L = validOf(s);
  for (let seq = 0; seq < s.batch * G; seq++) {
    const b = Math.floor(seq / G);
    const g = seq % G;
    const score = new Float64Array(T);
    for (let t = 0; t < L; t++) {
      let sum = 0;
      for (let d = 0; d < D; d++) sum += (h[row(s, b, t, g) * D + d] as number) * (context[g * D + d] as number);
      score[t] = sum;
    }
    // One invocation finds the maximum and the normaliser, in step order.
    let max = score[0] as number;
    for (let t = 1; t < L; t++) max = Math.max(max, score[t] as number);
    let total = 0;
    for (let t = 0; t < L; t++) total += Math.exp((score[t] as number) - max);
    const weight = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      weight[t] = t < L ? Math.exp((score[t] as number) - max) / total : 0;
      alpha[seq * T + t] = weight[t] as number;
    }
    for (let d = 0; d < D; d++) {
      let sum = 0;
      for (let t = 0; t < L; t++) sum += (weight[t] as number) * (h[row(s, b, t, g) * D + d] as number);
      pooled[seq * D + d] = sum;
    }
  }
}

/** One workgroup per sequence: dalpha_t = dout · h_t, dscore_t = alpha_t (dalpha_t − Σ alpha·dalpha),
 * dh_t = alpha_t dout + dscore_t context (0 at masked positions). */
export function attentionPoolBackward(
  s: AttentionPoolSizes,
  dout: FloatArray,
  h: FloatArray,
  context: FloatArray,
  alpha: FloatArray,
  dh: FloatArray,
  dscore: FloatArray,
): void {
  const { groups: G, width: D, length: T } = s;
  const L = validOf(s);
  for (let seq = 0; seq < s.batch * G; seq++) {
    const b = Math.floor(seq / G);
    const g = seq % G;
    const dalpha = new Float64Array(T);
    for (let t = 0; t < L; t++) {
      let sum = 0;
      for (let d = 0; d < D; d++) sum += (dout[seq * D + d] as number) * (h[row(s, b, t, g) * D + d] as number);
      dalpha[t] = sum;
    }
    let mean = 0;
    for (let t = 0; t < L; t++) mean += (alpha[seq * T + t] as number) * (dalpha[t] as number);
    const ds = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      ds[t] = t < L ? (alpha[seq * T + t] as number) * ((dalpha[t] as number) - mean) : 0;
      dscore[seq * T + t] = ds[t] as number;
    }
    for (let e = 0; e < T * D; e++) {
      const t = Math.floor(e / D);
      const d = e % D;
      dh[row(s, b, t, g) * D + d] = t < L ? (alpha[seq * T + t] as number) * (dout[seq * D + d] as number) + (ds[t] as number) * (context[g * D + d] as number) : 0;
    }
  }
}

/** dcontext [G, D]: Σ over batch and valid positions of dscore · h, one invocation per element. */
export function attentionPoolContextGrad(s: AttentionPoolSizes, h: FloatArray, dscore: FloatArray, dcontext: FloatArray): void {
  const { groups: G, width: D, length: T } = s;
  const L = validOf(s);
  for (let e = 0; e < G * D; e++) {
    const g = Math.floor(e / D);
    const d = e % D;
    let sum = 0;
    for (let b = 0; b < s.batch; b++) {
      for (let t = 0; t < L; t++) sum += (dscore[(b * G + g) * T + t] as number) * (h[row(s, b, t, g) * D + d] as number);
    }
    dcontext[e] = sum;
  }
}
