// C[M,N] = act(op(A)·op(B) + bias[N])   or, with ACCUMULATE,   C += op(A)·op(B),
// on the GEMM core (gemm/core.wgsl). A is stored [M,K] row-major, or [K,M] with
// TRANS_A; B is [K,N], or [N,K] with TRANS_B. Twin: src/cpu/matmul.ts.
//
// Fusions for a dense layer's backward, so that it needs no separate passes:
//   GATE_A / GATE_B   the operand is multiplied elementwise by act'(y), y the
//                     forward output stored like that operand (binding gate);
//   BIAS_GRAD_ROW     op(A) gets one more row of ones (row m_a), whose output
//                     row is the column sum of op(B): the bias gradient, stored
//                     to db instead of c (dW = Xᵀ·dY and db = 1ᵀ·dY in one pass).
#include "lib/activation_fn"

struct Params {
  M: u32,          // rows of the GEMM: m_a, plus one with BIAS_GRAD_ROW
  N: u32,
  K: u32,
  split_len: u32,
  splits: u32,
  m_a: u32,        // rows of op(A) as stored
}

override ACT: u32 = 0u;
override ALPHA: f32 = 0.0;

#if HAS_BIAS
const BIAS_BINDINGS: u32 = 1u;
#else
const BIAS_BINDINGS: u32 = 0u;
#endif
#if GATE_A
const GATE_BINDINGS: u32 = 1u;
#elif GATE_B
const GATE_BINDINGS: u32 = 1u;
#else
const GATE_BINDINGS: u32 = 0u;
#endif
#if BIAS_GRAD_ROW
const DB_BINDINGS: u32 = 1u;
#else
const DB_BINDINGS: u32 = 0u;
#endif

@group(0) @binding(0) var<uniform> params: Params;
// A_VEC4 / B_VEC4: the operand's rows are contiguous along the dimension the
// core reads four at a time (A along K, B along N) and a multiple of 4 long,
// so it is bound as vec4s and one load fetches four values.
#if A_VEC4
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
#else
@group(0) @binding(1) var<storage, read> a: array<f32>;
#endif
#if B_VEC4
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
#else
@group(0) @binding(2) var<storage, read> b: array<f32>;
#endif
#if HAS_BIAS
@group(0) @binding(3) var<storage, read> bias: array<f32>;
#endif
// The gate is stored like the operand it gates, and read the same way.
#if GATE_A
#if A_VEC4
@group(0) @binding(3u + BIAS_BINDINGS) var<storage, read> gate: array<vec4f>;
#else
@group(0) @binding(3u + BIAS_BINDINGS) var<storage, read> gate: array<f32>;
#endif
#elif GATE_B
#if B_VEC4
@group(0) @binding(3u + BIAS_BINDINGS) var<storage, read> gate: array<vec4f>;
#else
@group(0) @binding(3u + BIAS_BINDINGS) var<storage, read> gate: array<f32>;
#endif
#endif
@group(0) @binding(3u + BIAS_BINDINGS + GATE_BINDINGS) var<storage, read_write> c: array<f32>;
#if BIAS_GRAD_ROW
@group(0) @binding(4u + BIAS_BINDINGS + GATE_BINDINGS) var<storage, read_write> db: array<f32>;
#endif
#if SPLIT_K
@group(0) @binding(4u + BIAS_BINDINGS + GATE_BINDINGS + DB_BINDINGS) var<storage, read_write> partials: array<f32>;
#endif

// Where op(A)[row, k] lives in a.
fn a_index(row: u32, k: u32) -> u32 {
#if TRANS_A
  return k * params.m_a + row;
#else
  return row * params.K + k;
#endif
}

// Where op(B)[k, col] lives in b.
fn b_index(k: u32, col: u32) -> u32 {
#if TRANS_B
  return col * params.K + k;
#else
  return k * params.N + col;
#endif
}

fn a_at(i: u32) -> f32 {
#if A_VEC4
  let v = a[i / 4u][i % 4u];
#else
  let v = a[i];
#endif
#if GATE_A
#if A_VEC4
  return v * activate_grad_from_output(gate[i / 4u][i % 4u], ACT, ALPHA);
#else
  return v * activate_grad_from_output(gate[i], ACT, ALPHA);
#endif
#else
  return v;
#endif
}

fn b_at(i: u32) -> f32 {
#if B_VEC4
  let v = b[i / 4u][i % 4u];
#else
  let v = b[i];
#endif
#if GATE_B
#if B_VEC4
  return v * activate_grad_from_output(gate[i / 4u][i % 4u], ACT, ALPHA);
#else
  return v * activate_grad_from_output(gate[i], ACT, ALPHA);
#endif
#else
  return v;
#endif
}

fn load_a(row: u32, k: u32) -> f32 {
#if BIAS_GRAD_ROW
  return select(a_at(a_index(row, k)), 1.0, row == params.m_a);
#else
  return a_at(a_index(row, k));
#endif
}

// k is a multiple of 4 whenever the core asks for four depths.
fn load_a4(row: u32, k: u32) -> vec4f {
#if A_VEC4
  let i = a_index(row, k) / 4u;
#if GATE_A
  var v = a[i] * activate_grad_from_output4(gate[i], ACT, ALPHA);
#else
  var v = a[i];
#endif
#if BIAS_GRAD_ROW
  v = select(v, vec4f(1.0), row == params.m_a);
#endif
  return v;
#else
  return vec4f(load_a(row, k), load_a(row, k + 1u), load_a(row, k + 2u), load_a(row, k + 3u));
#endif
}

// col is a multiple of 4.
fn load_b4(k: u32, col: u32) -> vec4f {
#if B_VEC4
  let i = b_index(k, col) / 4u;
#if GATE_B
  return b[i] * activate_grad_from_output4(gate[i], ACT, ALPHA);
#else
  return b[i];
#endif
#else
  return vec4f(b_at(b_index(k, col)), b_at(b_index(k, col + 1u)), b_at(b_index(k, col + 2u)), b_at(b_index(k, col + 3u)));
#endif
}

fn gemm_store(row: u32, col: u32, v: f32) {
  let i = row * params.N + col;
#if BIAS_GRAD_ROW
  if (row == params.m_a) {
#if ACCUMULATE
    db[col] = db[col] + v;
#else
    db[col] = v;
#endif
    return;
  }
#endif
#if ACCUMULATE
  c[i] = c[i] + v;
#elif HAS_BIAS
  c[i] = activate(v + bias[col], ACT, ALPHA);
#elif GATE_A
  c[i] = v;
#elif GATE_B
  c[i] = v;
#else
  c[i] = activate(v, ACT, ALPHA);
#endif
}

#include "gemm/core"
