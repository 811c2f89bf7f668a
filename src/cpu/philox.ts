import type { FloatArray } from '../core/tensor.ts';

export { requireSeed } from '../core/checks.ts';

// CPU twin of shaders/lib/philox.wgsl: the Philox4x32-10 counter-based
// generator (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011) and standard normals computed with integer arithmetic
// only, so that the GPU and this file produce the same bits.
//
// Stream layout. A draw is named by (seed, stream, step, element index i).
// Each Philox block yields four 32-bit words, so element i reads word i % 4 of
//   counter = (i / 4, step, 0, 0),   key = (seed, stream).
// For any element index below 2^32 and any step below 2^32 the counter is
// unique, so no two (element, step) pairs of one (seed, stream) share a block.
// `stream` separates the users of one seed (normals, dropout masks): their
// keys differ, hence their sequences are unrelated.
//
// Numbers are u32 values held in JS numbers; every operation ends in `>>> 0`
// (or is known to stay below 2^32) so it matches WGSL's wrapping u32 math.

export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** ASCII "norm": the stream of standard normals (normalKernel, reparam). */
export const STREAM_NORMAL = 0x6e6f726d;
/** ASCII "drop": the stream of dropout masks. */
export const STREAM_DROPOUT = 0x64726f70;

/** A 64-bit unsigned value as (high word, low word), like WGSL's vec2u. */
export type U64 = readonly [hi: number, lo: number];
export type Block = readonly [number, number, number, number];

/** The full 64-bit product a·b from 16-bit halves (WGSL has no mulhi). */
export function mulhilo(a: number, b: number): U64 {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  const lo = ((mid << 16) | (p00 & 0xffff)) >>> 0;
  return [hi, lo];
}

export function philox4x32_10(counter: Block, key: readonly [number, number]): Block {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const p0 = mulhilo(PHILOX_M0, c0);
    const p1 = mulhilo(PHILOX_M1, c2);
    const n0 = (p1[0] ^ c1 ^ k0) >>> 0;
    const n2 = (p0[0] ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = p1[1];
    c2 = n2;
    c3 = p0[1];
  }
  return [c0, c1, c2, c3];
}

/** The block holding elements 4·group .. 4·group+3 at (seed, stream, step). */
export function philoxBlock(seed: number, stream: number, step: number, group: number): Block {
  return philox4x32_10([group >>> 0, step >>> 0, 0, 0], [seed >>> 0, stream >>> 0]);
}

// ---- Standard normals in integer arithmetic -------------------------------
//
// Box–Muller: eps = sqrt(-2 ln u)·(cos θ, sin θ), u = (x + 1)/2^32 ∈ (0, 1]
// from one word and θ = 2π·w/2^32 from the next. Transcendentals differ by
// ULPs between GPUs and V8, so everything is fixed point on u32:
//   s = -2 ln u   as s·2^58 in 64 bits (bit-by-bit log2, or a series near u = 1)
//   r = sqrt(s)   as r·2^29 (bit-by-bit integer square root)
//   cos, sin      in Q1.31 (octant reduction and Taylor polynomials)
//   eps = r·cos   as a 64-bit product times 2^-60, rounded to 24 bits and
//                 assembled into f32 bits, which is exact.
// Worst-case error against the real-number formula is below 1e-6.

const ONE_Q31 = 0x80000000;
/** 2·ln 2 · 2^31, rounded. */
const LN4_Q31 = 2977044472;
/** π · 2^30, rounded. */
const PI_Q30 = 3373259426;
/** Below this many 2^-32 steps from u = 1 the series path is taken. */
const LOG_SERIES_LIMIT = 0x1000000;

function shl1_64(x: U64): U64 {
  return [((x[0] << 1) | (x[1] >>> 31)) >>> 0, (x[1] << 1) >>> 0];
}

/** The low word of x >> sh, for 0 ≤ sh < 64. */
function shr64Low(x: U64, sh: number): number {
  if (sh === 0) return x[1];
  if (sh < 32) return ((x[1] >>> sh) | (x[0] << (32 - sh))) >>> 0;
  return x[0] >>> (sh - 32);
}

function le64(a: U64, b: U64): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
}

/** (a·b) >> 31 for Q1.31 values a, b ≤ 1. */
function mulQ31(a: number, b: number): number {
  const p = mulhilo(a, b);
  return ((p[0] << 1) | (p[1] >>> 31)) >>> 0;
}

/** -2 ln u for u = (x + 1)/2^32, as s·2^58 (s ≤ 44.4, so it fits 64 bits). */
export function neg2LnUniformQ58(x: number): U64 {
  const v = ~x >>> 0; // 2^32·(1 - u)
  if (v < LOG_SERIES_LIMIT) {
    // Within 2^-8 of u = 1 the logarithm below would cancel to few bits;
    // -2 ln(1 - t) = 2t(1 + t/2 + t²/3 + …) with t = v/2^32 keeps them all.
    const q = ONE_Q31 + (v >>> 2) + Math.floor((mulhilo(v, v)[0] >>> 1) / 3);
    const p = mulhilo(v, q);
    return [p[0] >>> 4, ((p[1] >>> 4) | (p[0] << 28)) >>> 0];
  }
  const m = (x + 1) >>> 0; // u·2^32, in [1, 2^32 - 2^24]
  const n = Math.clz32(m);
  let y = (m << n) >>> 0; // Q1.31 mantissa of u in [1, 2)
  let f = 0;
  // log2 of the mantissa one bit at a time: square; a result ≥ 2 is a 1 bit.
  for (let k = 0; k < 26; k++) {
    const sq = mulhilo(y, y);
    f = (f << 1) >>> 0;
    if (sq[0] >= ONE_Q31) {
      y = sq[0];
      f = (f | 1) >>> 0;
    } else {
      y = ((sq[0] << 1) | (sq[1] >>> 31)) >>> 0;
    }
  }
  const l = ((n << 26) + ((1 << 26) - f)) >>> 0; // -log2 u in Q6.26
  return shl1_64(mulhilo(l, LN4_Q31));
}

/** floor(sqrt(s)) of a 64-bit s whose root fits 32 bits. */
export function isqrt64(s: U64): number {
  let r = 0;
  for (let b = 32; b > 0; b--) {
    const c = (r | (1 << (b - 1))) >>> 0;
    if (le64(mulhilo(c, c), s)) r = c;
  }
  return r;
}

/** |cos|, |sin| of 2π·w/2^32 in Q1.31, and their signs (1 = negative). */
export function cosSinQ31(w: number): readonly [number, number, number, number] {
  const octant = w >>> 29;
  let a = w & 0x1fffffff;
  if ((octant & 1) !== 0) a = 0x20000000 - a;
  const t = mulhilo(a, PI_Q30);
  const x = ((t[0] << 2) | (t[1] >>> 30)) >>> 0; // φ ∈ [0, π/4] in Q1.31
  const x2 = mulQ31(x, x);
  // Horner forms of the Taylor series through x^11 and x^12; every bracket
  // stays in [0, 1], so unsigned Q1.31 suffices. Truncation error < 1e-11.
  let s = ONE_Q31 - Math.floor(x2 / 110);
  s = ONE_Q31 - Math.floor(mulQ31(x2, s) / 72);
  s = ONE_Q31 - Math.floor(mulQ31(x2, s) / 42);
  s = ONE_Q31 - Math.floor(mulQ31(x2, s) / 20);
  s = ONE_Q31 - Math.floor(mulQ31(x2, s) / 6);
  const sinPhi = mulQ31(x, s);
  let c = ONE_Q31 - Math.floor(x2 / 132);
  c = ONE_Q31 - Math.floor(mulQ31(x2, c) / 90);
  c = ONE_Q31 - Math.floor(mulQ31(x2, c) / 56);
  c = ONE_Q31 - Math.floor(mulQ31(x2, c) / 30);
  c = ONE_Q31 - Math.floor(mulQ31(x2, c) / 12);
  const cosPhi = ONE_Q31 - Math.floor(mulQ31(x2, c) / 2);
  const swap = ((octant + 1) & 2) !== 0;
  return [
    swap ? sinPhi : cosPhi,
    swap ? cosPhi : sinPhi,
    ((octant + 2) & 4) !== 0 ? 1 : 0,
    (octant >>> 2) & 1,
  ];
}

const f32Bits = new Uint32Array(1);
const f32Value = new Float32Array(f32Bits.buffer);

/** ±p·2^-60 rounded to 24 significant bits (half up), built from its bits. */
export function fixedToF32(p: U64, negative: number): number {
  if (p[0] === 0 && p[1] === 0) return 0;
  const top = p[0] !== 0 ? 63 - Math.clz32(p[0]) : 31 - Math.clz32(p[1]);
  const window = top >= 24 ? shr64Low(p, top - 24) : (p[1] << (24 - top)) >>> 0;
  let mant = (window + 1) >>> 1;
  let biased = top + 67; // exponent of the top bit (top - 60) plus the bias 127
  if (mant >= 0x1000000) {
    mant >>>= 1;
    biased += 1;
  }
  f32Bits[0] = ((negative << 31) | (biased << 23) | (mant & 0x7fffff)) >>> 0;
  return f32Value[0] as number;
}

/** Two independent standard normals from two uniform words. */
export function boxMuller(radiusWord: number, angleWord: number): readonly [number, number] {
  const r = isqrt64(neg2LnUniformQ58(radiusWord)); // r·2^29
  const cs = cosSinQ31(angleWord);
  return [fixedToF32(mulhilo(r, cs[0]), cs[2]), fixedToF32(mulhilo(r, cs[1]), cs[3])];
}

/** The four normals of one Philox block: words (0, 1) and (2, 3) are Box–Muller pairs. */
export function normal4(words: Block): readonly [number, number, number, number] {
  const a = boxMuller(words[0], words[1]);
  const b = boxMuller(words[2], words[3]);
  return [a[0], a[1], b[0], b[1]];
}

/** Twin of shaders/rng.wgsl `normal`: eps[i] is the normal of element i at (seed, step). */
export function normalFill(seed: number, step: number, eps: FloatArray): void {
  const n = eps.length;
  for (let g = 0; 4 * g < n; g++) {
    const first = 4 * g;
    const e = normal4(philoxBlock(seed, STREAM_NORMAL, step, g));
    for (let k = 0; k < 4; k++) if (first + k < n) eps[first + k] = e[k] as number;
  }
}

/** Twin of shaders/rng.wgsl `philox`: one block per (counter, key) row. */
export function philoxRows(counters: Uint32Array, keys: Uint32Array, out: Uint32Array): void {
  const rows = out.length / 4;
  for (let i = 0; i < rows; i++) {
    const c: Block = [counters[4 * i] as number, counters[4 * i + 1] as number, counters[4 * i + 2] as number, counters[4 * i + 3] as number];
    const w = philox4x32_10(c, [keys[2 * i] as number, keys[2 * i + 1] as number]);
    out.set(w, 4 * i);
  }
}

