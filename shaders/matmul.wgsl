// C[M,N] = act(op(A)·op(B) + bias[N])   or, with ACCUMULATE,   C += op(A)·op(B).
// A is stored [M,K] row-major, or [K,M] with TRANS_A; B is [K,N], or [N,K]
// with TRANS_B. Twin: src/cpu/matmul.ts (same a_index / b_index arithmetic).
//
// Tiling. A workgroup of 16x16 invocations owns a BM x BN tile of C, with
// BM = 16·RM and BN = 16·RN; each invocation keeps an RM x RN block of
// accumulators in registers (4x4 for the full 64x64 tile; RM/RN drop to 1 or
// 2 when M or N is tiny, so a matrix-vector product does not pay for 63 idle
// rows). K is walked in BK = 16 deep slices staged through workgroup memory:
// a_tile[BK][BM] + b_tile[BK][BN] = 2·16·64·4 B = 8 KiB of the 16 KiB allowed.
// Invocation (tx, ty) owns rows ty + 16·i and columns tx + 16·j, so for each
// (i, j) neighbouring invocations store neighbouring columns: the stores are
// coalesced, and so are the tile loads (each follows its operand's layout).
//
// Napkin math, full 64x64 tile: FLOPs = 2·M·N·K. Each BK slice loads
// (64 + 64)·16 floats from global memory and feeds 64·64·16 multiply-adds, so
// global traffic is 4·K·(M·N/64 + M·N/64) B = M·N·K/8 B, i.e. 16 FLOPs per
// byte, against the 4·(MK + KN + MN) B an ideal kernel moves once. In each
// step of a slice an invocation reads RM + RN = 8 floats of workgroup memory
// for RM·RN = 16 multiply-adds.
#include "lib/activation_fn"

struct Params { M: u32, N: u32, K: u32 }

override ACT: u32 = 0u;
override ALPHA: f32 = 0.0;
// Rows / columns of C per invocation: 1, 2 or 4 (chosen by src/kernels/matmul.ts).
override RM: u32 = 4u;
override RN: u32 = 4u;

const WX: u32 = 16u;
const WY: u32 = 16u;
const BK: u32 = 16u;
const R_MAX: u32 = 4u;
const BM_MAX: u32 = WY * R_MAX;
const BN_MAX: u32 = WX * R_MAX;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
#if HAS_BIAS
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
#else
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
#endif

// Laid out [k][m] and [k][n], so the inner product loop reads rows of both.
var<workgroup> a_tile: array<f32, BK * BM_MAX>;
var<workgroup> b_tile: array<f32, BK * BN_MAX>;

// Where op(A)[row, k] lives in a.
fn a_index(row: u32, k: u32) -> u32 {
#if TRANS_A
  return k * params.M + row;
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

@compute @workgroup_size(WX, WY)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let BM = WY * RM;
  let BN = WX * RN;
  let tx = lid.x;
  let ty = lid.y;
  let flat = ty * WX + tx;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;

  // Function-scope variables start zeroed.
  var acc: array<f32, R_MAX * R_MAX>;
  var a_reg: array<f32, R_MAX>;
  var b_reg: array<f32, R_MAX>;

  for (var k0 = 0u; k0 < K; k0 += BK) {
    // Stage op(A)[row0.., k0..] and op(B)[k0.., col0..], zero outside the matrices.
    for (var e = flat; e < BK * BM; e += WX * WY) {
#if TRANS_A
      let r = e % BM;
      let kk = e / BM;
#else
      let kk = e % BK;
      let r = e / BK;
#endif
      let row = row0 + r;
      let k = k0 + kk;
      var v = 0.0;
      if (row < M && k < K) { v = a[a_index(row, k)]; }
      a_tile[kk * BM + r] = v;
    }
    for (var e = flat; e < BK * BN; e += WX * WY) {
#if TRANS_B
      let kk = e % BK;
      let cc = e / BK;
#else
      let cc = e % BN;
      let kk = e / BN;
#endif
      let col = col0 + cc;
      let k = k0 + kk;
      var v = 0.0;
      if (col < N && k < K) { v = b[b_index(k, col)]; }
      b_tile[kk * BN + cc] = v;
    }
    workgroupBarrier();

    let depth = min(BK, K - k0);
    for (var kk = 0u; kk < depth; kk++) {
      for (var i = 0u; i < RM; i++) { a_reg[i] = a_tile[kk * BM + ty + WY * i]; }
      for (var j = 0u; j < RN; j++) { b_reg[j] = b_tile[kk * BN + tx + WX * j]; }
      for (var i = 0u; i < RM; i++) {
        for (var j = 0u; j < RN; j++) {
          acc[i * R_MAX + j] += a_reg[i] * b_reg[j];
        }
      }
    }
    // The next slice must not overwrite the tiles while others still read them.
    workgroupBarrier();
  }

  for (var i = 0u; i < RM; i++) {
    let row = row0 + ty + WY * i;
    if (row >= M) { continue; }
    for (var j = 0u; j < RN; j++) {
      let col = col0 + tx + WX * j;
      if (col >= N) { continue; }
      let sum = acc[i * R_MAX + j];
#if ACCUMULATE
      c[row * N + col] = c[row * N + col] + sum;
#elif HAS_BIAS
      c[row * N + col] = activate(sum + bias[col], ACT, ALPHA);
#else
      c[row * N + col] = activate(sum, ACT, ALPHA);
#endif
    }
  }
}
