// Stride-1 conv1d and its transpose as implicit GEMMs over channels-last
// tensors. Twin: src/cpu/conv1d.ts (same function names, same index maths,
// without the tiling).
//
// Every kernel here reads windows of one signal s [batch, sig_len, sig_ch]:
// output position l sees s[b, l + k + shift, c] for k in [0, ksize), and a
// position outside [0, sig_len) reads 0 (shift is minus the left padding).
//
//   conv_gemm    out[b, l, n] = act(bias[n] + sum over k, c of window(b, l, k, c) * weight_at(k, c, n))
//                weight_at(k, c, n) = w[k, c, n]                    conv forward
//                  with FLIP          w[ksize - 1 - k, n, c]        conv input grad, transposed forward
//   weight_grad  out[k, c, n] = sum over b, l of window(b, l, k, c) * grad_at(b, l, n),
//                grad_at reading g [batch, out_len, out_ch]
//   bias_grad    out[n] = sum over b, l of g[b, l, n], as per-chunk partials
//   sum_splits   total[i] = sum over z of partial[z, i], in order of z
//
// ACT / ALPHA are the layer's activation. A forward dispatch applies it in
// conv_gemm's epilogue (ACT = 0, none, is the identity). A backward dispatch
// instead multiplies its gradient operand by act'(y), read off the forward
// output gate_y (flags GATE_SIGNAL / GATE_GRAD), so differentiating a kernel
// with a fused activation needs no separate pass; such a dispatch has no
// epilogue activation.
#include "lib/activation_fn"

override ACT: u32 = 0u;
override ALPHA: f32 = 0.0;

#if SUM_SPLITS
struct Splits { count: u32, splits: u32 }

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> sums: Splits;
// Scratch, which the executor binds read_write.
@group(0) @binding(1) var<storage, read_write> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;

@compute @workgroup_size(WG)
fn sum_splits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= sums.count) { return; }
  var acc = 0.0;
  for (var z = 0u; z < sums.splits; z++) {
    acc += partial[z * sums.count + i];
  }
  total[i] = acc;
}

#elif BIAS_GRAD
struct BiasGrad { rows: u32, cols: u32, chunk: u32 }

override WG: u32 = 256u;
var<workgroup> reduce_scratch: array<f32, WG>;
#include "lib/workgroup_reduce"

@group(0) @binding(0) var<uniform> bg: BiasGrad;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
#if GATE_GRAD
@group(0) @binding(3) var<storage, read> gate_y: array<f32>;
#endif

fn grad_at(i: u32) -> f32 {
#if GATE_GRAD
  return g[i] * activate_grad_from_output(gate_y[i], ACT, ALPHA);
#else
  return g[i];
#endif
}

// One workgroup per (column n, chunk z of rows); out[z, n] is the chunk's tree sum.
@compute @workgroup_size(WG)
fn bias_grad(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let n = wid.x;
  let start = wid.y * bg.chunk;
  let end = min(bg.rows, start + bg.chunk);
  var acc = 0.0;
  for (var r = start + lid.x; r < end; r += WG) {
    acc += grad_at(r * bg.cols + n);
  }
  let chunk_sum = workgroup_sum(lid.x, acc);
  if (lid.x == 0u) { out[wid.y * bg.cols + n] = chunk_sum; }
}

#else
// The two implicit GEMMs. rows x out_ch outputs per kernel, reduced over depth.
struct Conv {
  batch: u32,
  sig_len: u32,
  sig_ch: u32,
  out_len: u32,
  out_ch: u32,
  ksize: u32,
  shift: i32,
  rows: u32,
  depth: u32,
  // weight_grad only: reduction rows per split (workgroup_id.z).
  split_len: u32,
}

// Each invocation owns a TM x TN block of the output tile, strided by the
// workgroup's extent so neighbouring invocations touch neighbouring addresses.
const TM: u32 = 4u;
const TN: u32 = 4u;
override WG_M: u32 = 16u;
override WG_N: u32 = 16u;
override TILE_R: u32 = 16u;
override TILE_M: u32 = WG_M * TM;
override TILE_N: u32 = WG_N * TN;
// a_tile rows are padded by one so that conv_gemm's staging, where
// neighbouring invocations write neighbouring depths rr, hits distinct banks.
override A_STRIDE: u32 = TILE_M + 1u;

var<workgroup> a_tile: array<f32, TILE_R * A_STRIDE>;
var<workgroup> b_tile: array<f32, TILE_R * TILE_N>;

@group(0) @binding(0) var<uniform> conv: Conv;
@group(0) @binding(1) var<storage, read> s: array<f32>;

fn window(b: u32, l: u32, k: u32, c: u32) -> f32 {
  let pos = i32(l + k) + conv.shift;
  if (pos < 0 || pos >= i32(conv.sig_len)) { return 0.0; }
  let i = (b * conv.sig_len + u32(pos)) * conv.sig_ch + c;
#if GATE_SIGNAL
  return s[i] * activate_grad_from_output(gate_y[i], ACT, ALPHA);
#else
  return s[i];
#endif
}

// acc[i][j] += the staged depth of a_tile row i times b_tile column j, i and
// j counting this invocation's rows and columns (TM = TN = 4: one vec4 each).
fn multiply_tiles(lid: vec3u, acc: ptr<function, array<vec4f, TM>>) {
  for (var rr = 0u; rr < TILE_R; rr++) {
    let ar = rr * A_STRIDE + lid.y;
    let br = rr * TILE_N + lid.x;
    let b = vec4f(b_tile[br], b_tile[br + WG_N], b_tile[br + 2u * WG_N], b_tile[br + 3u * WG_N]);
    (*acc)[0] += a_tile[ar] * b;
    (*acc)[1] += a_tile[ar + WG_M] * b;
    (*acc)[2] += a_tile[ar + 2u * WG_M] * b;
    (*acc)[3] += a_tile[ar + 3u * WG_M] * b;
  }
}

#if WEIGHT_GRAD
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// Either gate reads the forward output, shaped like the operand it gates.
#if GATE_SIGNAL
@group(0) @binding(4) var<storage, read> gate_y: array<f32>;
#elif GATE_GRAD
@group(0) @binding(4) var<storage, read> gate_y: array<f32>;
#endif

fn grad_at(b: u32, l: u32, n: u32) -> f32 {
  let i = (b * conv.out_len + l) * conv.out_ch + n;
#if GATE_GRAD
  return g[i] * activate_grad_from_output(gate_y[i], ACT, ALPHA);
#else
  return g[i];
#endif
}

// Rows m = (k, c), columns n, depth r = (b, l). Workgroup z reduces only the
// depth range [z * split_len, (z + 1) * split_len) and writes its partial
// sums to out[z, m, n]; with one split that is dw itself.
@compute @workgroup_size(WG_N, WG_M)
fn weight_grad(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.x * TILE_M;
  let col0 = wid.y * TILE_N;
  let r_begin = wid.z * conv.split_len;
  let r_end = min(conv.depth, r_begin + conv.split_len);
  let tid = lid.y * WG_N + lid.x;
  let threads = WG_M * WG_N;
  var acc: array<vec4f, TM>;
  for (var r0 = r_begin; r0 < r_end; r0 += TILE_R) {
    // m fastest: consecutive channels c are consecutive in memory.
    for (var e = tid; e < TILE_R * TILE_M; e += threads) {
      let mm = e % TILE_M;
      let rr = e / TILE_M;
      let m = row0 + mm;
      let r = r0 + rr;
      var v = 0.0;
      if (m < conv.rows && r < r_end) {
        v = window(r / conv.out_len, r % conv.out_len, m / conv.sig_ch, m % conv.sig_ch);
      }
      a_tile[rr * A_STRIDE + mm] = v;
    }
    for (var e = tid; e < TILE_R * TILE_N; e += threads) {
      let nn = e % TILE_N;
      let rr = e / TILE_N;
      let n = col0 + nn;
      let r = r0 + rr;
      var v = 0.0;
      if (n < conv.out_ch && r < r_end) {
        v = grad_at(r / conv.out_len, r % conv.out_len, n);
      }
      b_tile[rr * TILE_N + nn] = v;
    }
    workgroupBarrier();
    multiply_tiles(lid, &acc);
    workgroupBarrier();
  }
  let base = wid.z * conv.rows * conv.out_ch;
  for (var i = 0u; i < TM; i++) {
    let row = acc[i];
    for (var j = 0u; j < TN; j++) {
      let m = row0 + lid.y + i * WG_M;
      let n = col0 + lid.x + j * WG_N;
      if (m < conv.rows && n < conv.out_ch) {
        out[base + m * conv.out_ch + n] = row[j];
      }
    }
  }
}

#else
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// A forward has a bias, a backward a gate; never both (the factories see to it).
#if BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#elif GATE_SIGNAL
@group(0) @binding(4) var<storage, read> gate_y: array<f32>;
#endif

fn weight_at(k: u32, c: u32, n: u32) -> f32 {
#if FLIP
  return w[((conv.ksize - 1u - k) * conv.out_ch + n) * conv.sig_ch + c];
#else
  return w[(k * conv.sig_ch + c) * conv.out_ch + n];
#endif
}

// Rows m = (b, l), columns n, depth r = (k, c).
@compute @workgroup_size(WG_N, WG_M)
fn conv_gemm(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.x * TILE_M;
  let col0 = wid.y * TILE_N;
  let tid = lid.y * WG_N + lid.x;
  let threads = WG_M * WG_N;
  var acc: array<vec4f, TM>;
  for (var r0 = 0u; r0 < conv.depth; r0 += TILE_R) {
    // r fastest: for a fixed row, r = k * sig_ch + c walks the signal contiguously.
    for (var e = tid; e < TILE_R * TILE_M; e += threads) {
      let rr = e % TILE_R;
      let mm = e / TILE_R;
      let m = row0 + mm;
      let r = r0 + rr;
      var v = 0.0;
      if (m < conv.rows && r < conv.depth) {
        v = window(m / conv.out_len, m % conv.out_len, r / conv.sig_ch, r % conv.sig_ch);
      }
      a_tile[rr * A_STRIDE + mm] = v;
    }
    for (var e = tid; e < TILE_R * TILE_N; e += threads) {
      let nn = e % TILE_N;
      let rr = e / TILE_N;
      let n = col0 + nn;
      let r = r0 + rr;
      var v = 0.0;
      if (n < conv.out_ch && r < conv.depth) {
        v = weight_at(r / conv.sig_ch, r % conv.sig_ch, n);
      }
      b_tile[rr * TILE_N + nn] = v;
    }
    workgroupBarrier();
    multiply_tiles(lid, &acc);
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let row = acc[i];
    for (var j = 0u; j < TN; j++) {
      let m = row0 + lid.y + i * WG_M;
      let n = col0 + lid.x + j * WG_N;
      if (m < conv.rows && n < conv.out_ch) {
        var v = row[j];
#if BIAS
        v += bias[n];
#endif
#if GATE_SIGNAL
        out[m * conv.out_ch + n] = v;
#else
        out[m * conv.out_ch + n] = activate(v, ACT, ALPHA);
#endif
      }
    }
  }
}
#endif
#endif
