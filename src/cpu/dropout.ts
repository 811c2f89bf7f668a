import type { FloatArray } from '../core/tensor.ts';
import { STREAM_DROPOUT, philoxBlock } from './philox.ts';

// CPU twin of shaders/dropout.wgsl. Element i is kept when its Philox word
// (stream STREAM_DROPOUT, word i % 4 of block i / 4 at (seed, step)) is at
// least `threshold` = round(p·2^32), which happens with probability 1 - p.

export function requireDropRate(kernel: string, p: number): void {
  if (!(p >= 0 && p < 1)) throw new Error(`${kernel}: p must be in [0, 1), got ${p}`);
}

/** The u32 word cut-off below which an element is dropped. */
export function dropThreshold(p: number): number {
  return Math.min(0xffffffff, Math.round(p * 2 ** 32));
}

/** 1/(1 - p), rounded to f32 once so that both paths scale by the same number. */
export function keepScale(p: number): number {
  return Math.fround(1 / (1 - p));
}

export function dropoutForward(
  seed: number,
  threshold: number,
  scale: number,
  step: number,
  x: FloatArray,
  mask: Uint32Array,
  y: FloatArray,
): void {
  const n = x.length;
  for (let g = 0; 4 * g < n; g++) {
    const first = 4 * g;
    const words = philoxBlock(seed, STREAM_DROPOUT, step, g);
    for (let k = 0; k < 4; k++) {
      const i = first + k;
      if (i < n) {
        const keep = (words[k] as number) >= threshold ? 1 : 0;
        mask[i] = keep;
        y[i] = (x[i] as number) * Math.fround(keep * scale);
      }
    }
  }
}

export function dropoutBackward(scale: number, dy: FloatArray, mask: Uint32Array, dx: FloatArray): void {
  for (let i = 0; i < dy.length; i++) dx[i] = (dy[i] as number) * Math.fround((mask[i] as number) * scale);
}
