import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/maxpool1d.wgsl: the same index arithmetic, one loop
// iteration per GPU invocation.

export interface MaxPool1dSizes {
  readonly batch: number;
  readonly length: number;
  readonly channels: number;
  readonly pool: number;
}

/** Output length: whole windows only, the tail is dropped. */
export function maxPool1dOutLength(s: MaxPool1dSizes): number {
  return Math.floor(s.length / s.pool);
}

export function maxPool1dForward(s: MaxPool1dSizes, x: FloatArray, y: FloatArray, argmax: Uint32Array): void {
  const outLength = maxPool1dOutLength(s);
  const total = s.batch * outLength * s.channels;
  for (let i = 0; i < total; i++) {
    const c = i % s.channels;
    const bo = Math.floor(i / s.channels);
    const o = bo % outLength;
    const b = Math.floor(bo / outLength);
    const start = o * s.pool;
    const row = b * s.length;
    let best = x[(row + start) * s.channels + c] as number;
    let bestAt = start;
    for (let p = 1; p < s.pool; p++) {
      const v = x[(row + start + p) * s.channels + c] as number;
      // Strictly greater: on ties the first position keeps the maximum.
      if (v > best) {
        best = v;
        bestAt = start + p;
      }
    }
    y[i] = best;
    argmax[i] = bestAt;
  }
}

export function maxPool1dBackward(s: MaxPool1dSizes, dy: FloatArray, argmax: Uint32Array, dx: FloatArray): void {
  const outLength = maxPool1dOutLength(s);
  const total = s.batch * s.length * s.channels;
  for (let i = 0; i < total; i++) {
    const c = i % s.channels;
    const bl = Math.floor(i / s.channels);
    const l = bl % s.length;
    const b = Math.floor(bl / s.length);
    const o = Math.floor(l / s.pool);
    let grad = 0;
    if (o < outLength) {
      const j = (b * outLength + o) * s.channels + c;
      if (argmax[j] === l) grad = dy[j] as number;
    }
    dx[i] = grad;
  }
}
