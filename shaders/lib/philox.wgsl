// Philox4x32-10 counter-based random numbers (Salmon, Moraes, Dror and Shaw,
// SC 2011) and standard normals computed in integer arithmetic only, so that
// every GPU and the CPU twin (src/cpu/philox.ts, which reads line for line
// like this file) produce the same bits.
//
// Stream layout: element i of a draw at (seed, stream, step) is word i % 4 of
//   philox4x32_10(counter = (i / 4, step, 0, 0), key = (seed, stream)).
// Counters never repeat for element indices and steps below 2^32; streams
// (STREAM_NORMAL, STREAM_DROPOUT) keep the users of one seed apart.

const PHILOX_M0: u32 = 0xd2511f53u;
const PHILOX_M1: u32 = 0xcd9e8d57u;
const PHILOX_W0: u32 = 0x9e3779b9u;
const PHILOX_W1: u32 = 0xbb67ae85u;

const STREAM_NORMAL: u32 = 0x6e6f726du;   // ASCII "norm"
const STREAM_DROPOUT: u32 = 0x64726f70u;  // ASCII "drop"

// The full 64-bit product a*b as (high word, low word), from 16-bit halves:
// WGSL has no mulhi.
fn mulhilo(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  let lo = (mid << 16u) | (p00 & 0xffffu);
  return vec2u(hi, lo);
}

fn philox4x32_10(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) {
      k = k + vec2u(PHILOX_W0, PHILOX_W1);
    }
    let p0 = mulhilo(PHILOX_M0, c.x);
    let p1 = mulhilo(PHILOX_M1, c.z);
    c = vec4u(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}

// The block holding elements 4*group .. 4*group+3 at (seed, stream, step).
fn philox_block(seed: u32, stream: u32, step: u32, group: u32) -> vec4u {
  return philox4x32_10(vec4u(group, step, 0u, 0u), vec2u(seed, stream));
}

// ---- Standard normals in integer arithmetic ----
// Box-Muller with u = (x + 1) / 2^32 in (0, 1] and angle 2 pi w / 2^32.
// GPU transcendentals differ from V8's by ULPs and compilers may fuse a*b+c,
// so the transform is fixed point on u32: s = -2 ln u as s * 2^58 (64 bits),
// r = sqrt(s) as r * 2^29, cos and sin in Q1.31, and eps = r * cos as a
// 64-bit product times 2^-60, rounded to 24 bits and assembled as f32 bits.
// Error against the real-number formula stays below 1e-6.

const ONE_Q31: u32 = 0x80000000u;
const LN4_Q31: u32 = 2977044472u;    // 2 ln 2 * 2^31, rounded
const PI_Q30: u32 = 3373259426u;     // pi * 2^30, rounded
const LOG_SERIES_LIMIT: u32 = 0x1000000u;

fn shl1_64(x: vec2u) -> vec2u {
  return vec2u((x.x << 1u) | (x.y >> 31u), x.y << 1u);
}

// The low word of x >> sh, for sh < 64.
fn shr64_low(x: vec2u, sh: u32) -> u32 {
  if (sh == 0u) { return x.y; }
  if (sh < 32u) { return (x.y >> sh) | (x.x << (32u - sh)); }
  return x.x >> (sh - 32u);
}

fn le64(a: vec2u, b: vec2u) -> bool {
  return a.x < b.x || (a.x == b.x && a.y <= b.y);
}

// (a * b) >> 31 for Q1.31 values a, b <= 1.
fn mul_q31(a: u32, b: u32) -> u32 {
  let p = mulhilo(a, b);
  return (p.x << 1u) | (p.y >> 31u);
}

// -2 ln u for u = (x + 1) / 2^32, as s * 2^58 (s <= 44.4 fits 64 bits).
fn neg2_ln_uniform_q58(x: u32) -> vec2u {
  let v = ~x;  // 2^32 (1 - u)
  if (v < LOG_SERIES_LIMIT) {
    // Within 2^-8 of u = 1 the logarithm below would cancel to few bits;
    // -2 ln(1 - t) = 2t (1 + t/2 + t^2/3 + ...) with t = v / 2^32 keeps them.
    let q = ONE_Q31 + (v >> 2u) + (mulhilo(v, v).x >> 1u) / 3u;
    let p = mulhilo(v, q);
    return vec2u(p.x >> 4u, (p.y >> 4u) | (p.x << 28u));
  }
  let m = x + 1u;  // u * 2^32, in [1, 2^32 - 2^24]
  let n = countLeadingZeros(m);
  var y = m << n;  // Q1.31 mantissa of u, in [1, 2)
  var f = 0u;
  // log2 of the mantissa one bit at a time: square; a result >= 2 is a 1 bit.
  for (var k = 0u; k < 26u; k++) {
    let sq = mulhilo(y, y);
    f = f << 1u;
    if (sq.x >= ONE_Q31) {
      y = sq.x;
      f = f | 1u;
    } else {
      y = (sq.x << 1u) | (sq.y >> 31u);
    }
  }
  let l = (n << 26u) + ((1u << 26u) - f);  // -log2 u in Q6.26
  return shl1_64(mulhilo(l, LN4_Q31));
}

// floor(sqrt(s)) of a 64-bit s whose root fits 32 bits.
fn isqrt64(s: vec2u) -> u32 {
  var r = 0u;
  for (var b = 32u; b > 0u; b--) {
    let c = r | (1u << (b - 1u));
    if (le64(mulhilo(c, c), s)) { r = c; }
  }
  return r;
}

// (|cos|, |sin|) of 2 pi w / 2^32 in Q1.31, then their signs (1 = negative).
fn cos_sin_q31(w: u32) -> vec4u {
  let octant = w >> 29u;
  var a = w & 0x1fffffffu;
  if ((octant & 1u) != 0u) { a = 0x20000000u - a; }
  let t = mulhilo(a, PI_Q30);
  let x = (t.x << 2u) | (t.y >> 30u);  // phi in [0, pi/4], Q1.31
  let x2 = mul_q31(x, x);
  // Horner forms of the Taylor series through x^11 and x^12; every bracket
  // stays in [0, 1], so unsigned Q1.31 suffices. Truncation error < 1e-11.
  var s = ONE_Q31 - x2 / 110u;
  s = ONE_Q31 - mul_q31(x2, s) / 72u;
  s = ONE_Q31 - mul_q31(x2, s) / 42u;
  s = ONE_Q31 - mul_q31(x2, s) / 20u;
  s = ONE_Q31 - mul_q31(x2, s) / 6u;
  let sin_phi = mul_q31(x, s);
  var c = ONE_Q31 - x2 / 132u;
  c = ONE_Q31 - mul_q31(x2, c) / 90u;
  c = ONE_Q31 - mul_q31(x2, c) / 56u;
  c = ONE_Q31 - mul_q31(x2, c) / 30u;
  c = ONE_Q31 - mul_q31(x2, c) / 12u;
  let cos_phi = ONE_Q31 - mul_q31(x2, c) / 2u;
  let swap = ((octant + 1u) & 2u) != 0u;
  return vec4u(
    select(cos_phi, sin_phi, swap),
    select(sin_phi, cos_phi, swap),
    select(0u, 1u, ((octant + 2u) & 4u) != 0u),
    (octant >> 2u) & 1u,
  );
}

// +-p * 2^-60 rounded to 24 significant bits (half up), built from its bits.
fn fixed_to_f32(p: vec2u, negative: u32) -> f32 {
  if (p.x == 0u && p.y == 0u) { return 0.0; }
  var top: u32;
  if (p.x != 0u) { top = 63u - countLeadingZeros(p.x); } else { top = 31u - countLeadingZeros(p.y); }
  var window: u32;
  if (top >= 24u) { window = shr64_low(p, top - 24u); } else { window = p.y << (24u - top); }
  var mant = (window + 1u) >> 1u;
  var biased = top + 67u;  // exponent of the top bit (top - 60) plus the bias 127
  if (mant >= 0x1000000u) {
    mant = mant >> 1u;
    biased = biased + 1u;
  }
  return bitcast<f32>((negative << 31u) | (biased << 23u) | (mant & 0x7fffffu));
}

// Two independent standard normals from two uniform words.
fn box_muller(radius_word: u32, angle_word: u32) -> vec2f {
  let r = isqrt64(neg2_ln_uniform_q58(radius_word));  // r * 2^29
  let cs = cos_sin_q31(angle_word);
  return vec2f(fixed_to_f32(mulhilo(r, cs.x), cs.z), fixed_to_f32(mulhilo(r, cs.y), cs.w));
}

// The four normals of one Philox block: words (x, y) and (z, w) are pairs.
fn normal4(words: vec4u) -> vec4f {
  let a = box_muller(words.x, words.y);
  let b = box_muller(words.z, words.w);
  return vec4f(a.x, a.y, b.x, b.y);
}
