// Stride-1 conv1d and its transpose as implicit GEMMs over channels-last
// tensors, on the GEMM core (gemm/core.wgsl): this file only says where the
// operands live and what the epilogue does. Twin: src/cpu/conv1d.ts (same
// function names, same index maths).
//
// Every GEMM here reads windows of one signal s [batch, sig_len, sig_ch]:
// output position l sees s[b, l + k + shift, c] for k in [0, ksize), and a
// position outside [0, sig_len) reads 0 (shift is minus the left padding).
//
//   CONV_GEMM    out[b, l, n] = act(bias[n] + sum over k, c of window(b, l, k, c) * weight_at(k, c, n))
//                rows m = (b, l), columns n, depth r = (k, c)
//                weight_at(k, c, n) = w[k, c, n]                    conv forward
//                  with FLIP          w[ksize - 1 - k, n, c]        conv input grad, transposed forward
//   WEIGHT_GRAD  out[k, c, n] = sum over b, l of window(b, l, k, c) * grad_at(b, l, n)
//                rows m = (k, c), columns n, depth r = (b, l); grad_at reads g [batch, out_len, out_ch]
//
// The bias gradient rides along in WEIGHT_GRAD as one more row or column of
// the GEMM, so a layer's backward needs no reduction pass of its own:
//   BIAS_GRAD_ROW  (conv1d) a row of ones in A: its outputs are sum over b, l of g = db.
//   BIAS_GRAD_COL  (transposed conv, where g is the windowed signal) a column
//                  of ones in B: row (k = ones_tap, c) sums g over positions
//                  l + ones_tap + shift for l in [0, out_len), which is every
//                  position of g when ones_tap is chosen so (the factory checks).
//
// ACT / ALPHA are the layer's activation. A forward dispatch applies it in
// the epilogue (ACT = 0, none, is the identity). A backward dispatch instead
// multiplies its gradient operand by act'(y), read off the forward output
// gate_y (flags GATE_SIGNAL / GATE_GRAD), and has no epilogue activation.
//
// S_VEC4 / W_VEC4 / G_VEC4 bind the signal, weight or gradient as vec4s where
// the four values the core asks for at once are contiguous and 4-aligned.
#include "lib/activation_fn"
#include "lib/quotient"

override ACT: u32 = 0u;
override ALPHA: f32 = 0.0;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  split_len: u32,
  splits: u32,
  batch: u32,
  sig_len: u32,
  sig_ch: u32,
  out_len: u32,
  out_ch: u32,
  ksize: u32,
  shift: i32,
  // The ones row (BIAS_GRAD_ROW) or column (BIAS_GRAD_COL) of the GEMM, and for a column the tap it reads.
  ones: u32,
  ones_tap: u32,
}

#if BIAS
const EXTRA_BINDINGS: u32 = 1u;
#elif GATE_SIGNAL
const EXTRA_BINDINGS: u32 = 1u;
#elif GATE_GRAD
const EXTRA_BINDINGS: u32 = 1u;
#else
const EXTRA_BINDINGS: u32 = 0u;
#endif
#if BIAS_GRAD_ROW
const DB_BINDINGS: u32 = 1u;
#elif BIAS_GRAD_COL
const DB_BINDINGS: u32 = 1u;
#else
const DB_BINDINGS: u32 = 0u;
#endif

@group(0) @binding(0) var<uniform> params: Params;
#if S_VEC4
@group(0) @binding(1) var<storage, read> s: array<vec4f>;
#else
@group(0) @binding(1) var<storage, read> s: array<f32>;
#endif
#if WEIGHT_GRAD
#if G_VEC4
@group(0) @binding(2) var<storage, read> g: array<vec4f>;
#else
@group(0) @binding(2) var<storage, read> g: array<f32>;
#endif
#else
#if W_VEC4
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
#else
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
#endif
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
#if BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#elif GATE_SIGNAL
#if S_VEC4
@group(0) @binding(4) var<storage, read> gate_y: array<vec4f>;
#else
@group(0) @binding(4) var<storage, read> gate_y: array<f32>;
#endif
#elif GATE_GRAD
#if G_VEC4
@group(0) @binding(4) var<storage, read> gate_y: array<vec4f>;
#else
@group(0) @binding(4) var<storage, read> gate_y: array<f32>;
#endif
#endif
#if BIAS_GRAD_ROW
@group(0) @binding(4u + EXTRA_BINDINGS) var<storage, read_write> db: array<f32>;
#elif BIAS_GRAD_COL
@group(0) @binding(4u + EXTRA_BINDINGS) var<storage, read_write> db: array<f32>;
#endif
#if SPLIT_K
@group(0) @binding(4u + EXTRA_BINDINGS + DB_BINDINGS) var<storage, read_write> partials: array<f32>;
#endif

fn signal_at(i: u32) -> f32 {
#if S_VEC4
  let v = s[i / 4u][i % 4u];
#if GATE_SIGNAL
  return v * activate_grad_from_output(gate_y[i / 4u][i % 4u], ACT, ALPHA);
#else
  return v;
#endif
#else
#if GATE_SIGNAL
  return s[i] * activate_grad_from_output(gate_y[i], ACT, ALPHA);
#else
  return s[i];
#endif
#endif
}

// Branch-free (a clamped read, then a select): the cores inline up to 32
// windows per step, and SwiftShader's compiler crawls over that much control flow.
fn window(b: u32, l: u32, k: u32, c: u32) -> f32 {
  let pos = i32(l + k) + params.shift;
  let inside = (pos >= 0) & (pos < i32(params.sig_len));
  let at = u32(clamp(pos, 0, i32(params.sig_len) - 1));
  return select(0.0, signal_at((b * params.sig_len + at) * params.sig_ch + c), inside);
}

#if WEIGHT_GRAD
fn grad_at(i: u32) -> f32 {
#if G_VEC4
  let v = g[i / 4u][i % 4u];
#if GATE_GRAD
  return v * activate_grad_from_output(gate_y[i / 4u][i % 4u], ACT, ALPHA);
#else
  return v;
#endif
#else
#if GATE_GRAD
  return g[i] * activate_grad_from_output(gate_y[i], ACT, ALPHA);
#else
  return g[i];
#endif
#endif
}

// Rows m = (k, c), depth r = (b, l).
fn load_a(m: u32, r: u32) -> f32 {
  let b = quotient(r, params.out_len);
  let k = quotient(m, params.sig_ch);
  let v = window(b, r - b * params.out_len, k, m - k * params.sig_ch);
#if BIAS_GRAD_ROW
  return select(v, 1.0, m == params.ones);
#else
  return v;
#endif
}

// Depths r .. r+3 are consecutive positions (b, l): one quotient for the
// first, then each carries l into b (at most once, since l < out_len).
fn load_a4(m: u32, r: u32) -> vec4f {
  let k = quotient(m, params.sig_ch);
  let c = m - k * params.sig_ch;
  let b0 = quotient(r, params.out_len);
  let l0 = r - b0 * params.out_len;
  let w1 = l0 + 1u == params.out_len;
  let b1 = select(b0, b0 + 1u, w1);
  let l1 = select(l0 + 1u, 0u, w1);
  let w2 = l1 + 1u == params.out_len;
  let b2 = select(b1, b1 + 1u, w2);
  let l2 = select(l1 + 1u, 0u, w2);
  let w3 = l2 + 1u == params.out_len;
  let b3 = select(b2, b2 + 1u, w3);
  let l3 = select(l2 + 1u, 0u, w3);
  let v = vec4f(window(b0, l0, k, c), window(b1, l1, k, c), window(b2, l2, k, c), window(b3, l3, k, c));
#if BIAS_GRAD_ROW
  return select(v, vec4f(1.0), m == params.ones);
#else
  return v;
#endif
}

// Columns n of g at depth r = (b, l): g[r, n] itself, r·out_ch + n; n is a multiple of 4.
fn load_b4(r: u32, n: u32) -> vec4f {
  let i = r * params.out_ch + n;
#if G_VEC4
#if GATE_GRAD
  var v = g[i / 4u] * activate_grad_from_output4(gate_y[i / 4u], ACT, ALPHA);
#else
  var v = g[i / 4u];
#endif
#else
  var v = vec4f(grad_at(i), grad_at(i + 1u), grad_at(i + 2u), grad_at(i + 3u));
#endif
#if BIAS_GRAD_COL
  v = select(v, vec4f(1.0), vec4u(n, n + 1u, n + 2u, n + 3u) == vec4u(params.ones));
#endif
  return v;
}

fn gemm_store(m: u32, n: u32, v: f32) {
#if BIAS_GRAD_ROW
  if (m == params.ones) {
    db[n] = v;
    return;
  }
#elif BIAS_GRAD_COL
  if (n == params.ones) {
    if (m / params.sig_ch == params.ones_tap) { db[m % params.sig_ch] = v; }
    return;
  }
#endif
  out[m * params.out_ch + n] = v;
}

#else
// Rows m = (b, l), depth r = (k, c).
fn load_a(m: u32, r: u32) -> f32 {
  let b = quotient(m, params.out_len);
  let k = quotient(r, params.sig_ch);
  return window(b, m - b * params.out_len, k, r - k * params.sig_ch);
}

fn load_a4(m: u32, r: u32) -> vec4f {
#if S_VEC4
  // sig_ch is a multiple of 4, so depths r .. r+3 are channels c .. c+3 of one tap.
  let b = quotient(m, params.out_len);
  let l = m - b * params.out_len;
  let k = quotient(r, params.sig_ch);
  let c = r - k * params.sig_ch;
  let pos = i32(l + k) + params.shift;
  let inside = (pos >= 0) & (pos < i32(params.sig_len));
  let at = u32(clamp(pos, 0, i32(params.sig_len) - 1));
  let i = ((b * params.sig_len + at) * params.sig_ch + c) / 4u;
#if GATE_SIGNAL
  return select(vec4f(0.0), s[i] * activate_grad_from_output4(gate_y[i], ACT, ALPHA), inside);
#else
  return select(vec4f(0.0), s[i], inside);
#endif
#else
  return vec4f(load_a(m, r), load_a(m, r + 1u), load_a(m, r + 2u), load_a(m, r + 3u));
#endif
}

fn weight_index(k: u32, c: u32, n: u32) -> u32 {
#if FLIP
  return ((params.ksize - 1u - k) * params.out_ch + n) * params.sig_ch + c;
#else
  return (k * params.sig_ch + c) * params.out_ch + n;
#endif
}

fn weight_at(i: u32) -> f32 {
#if W_VEC4
  return w[i / 4u][i % 4u];
#else
  return w[i];
#endif
}

// Columns n .. n+3 of the weight at depth r = (k, c); n is a multiple of 4.
fn load_b4(r: u32, n: u32) -> vec4f {
  let k = quotient(r, params.sig_ch);
  let c = r - k * params.sig_ch;
#if W_VEC4
  return w[weight_index(k, c, n) / 4u];
#else
  return vec4f(weight_at(weight_index(k, c, n)), weight_at(weight_index(k, c, n + 1u)),
               weight_at(weight_index(k, c, n + 2u)), weight_at(weight_index(k, c, n + 3u)));
#endif
}

fn gemm_store(m: u32, n: u32, v: f32) {
#if BIAS
  let x = v + bias[n];
#else
  let x = v;
#endif
#if GATE_SIGNAL
  out[m * params.out_ch + n] = x;
#else
  out[m * params.out_ch + n] = activate(x, ACT, ALPHA);
#endif
}
#endif

#include "gemm/core"
