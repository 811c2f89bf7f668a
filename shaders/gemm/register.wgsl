// GEMM core, register-blocked, no workgroup memory: C[M,N] = op(A)·op(B),
// each invocation owning a TM x TN block of C (TM, TN = 4 or 8: flags ROWS8,
// COLS8) in vec4 accumulators named one by one, so no private array is ever
// indexed by a loop variable and no barrier is ever taken. That is the shape
// SwiftShader runs fastest (a barrier there makes every 4-lane subgroup a
// coroutine, and a dynamically indexed private array becomes per-lane
// gathers); on hardware with fast shared memory gemm/tiled.wgsl may win, and
// the autotuner decides.
//
// The including family shader (matmul.wgsl, conv1d.wgsl) supplies the operands
// and the epilogue; this file only walks the block:
//   struct Params { M, N, K, split_len, splits, ... }   var<uniform> params
//   fn load_a4(row, k) -> vec4f   op(A)[row, k .. k+3], k + 3 < K
//   fn load_a(row, k) -> f32      op(A)[row, k], k < K
//   fn load_b4(k, col) -> vec4f   op(B)[k, col .. col+3], k < K
//   fn gemm_store(row, col, v)    the epilogue, for row < M and col < N only
// Rows >= M and columns >= N of a block are computed from whatever the loads
// return there (robust buffer access keeps them in bounds) and never stored:
// a GEMM never mixes rows of A or columns of B, so they cannot leak into C.
// Only the depth must be exact, hence the scalar tail below.
//
// SPLIT_K: workgroup z reduces only depths [z·split_len, (z+1)·split_len) and
// writes raw sums to partials[z, row, col]; gemm_sum_splits (gemm/splits.wgsl)
// then adds the splits in order of z and applies the epilogue, so the result
// is deterministic.
//
// Napkin math per invocation and 4 depths: TM vec4 loads of A, 4·TN/4 vec4
// loads of B, TM·TN·4 multiply-adds: 8x8 is 256 FMAs for 16 loads.

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y)
fn gemm_register(@builtin(global_invocation_id) gid: vec3u) {
#if COLS8
  let col = gid.x * 8u;
#else
  let col = gid.x * 4u;
#endif
#if ROWS8
  let row = gid.y * 8u;
#else
  let row = gid.y * 4u;
#endif
  // No barriers below, so idle invocations may leave at once.
  if (row >= params.M || col >= params.N) { return; }
  let z = gid.z;
  let k_begin = z * params.split_len;
  let k_end = min(params.K, k_begin + params.split_len);
  let k4_end = k_begin + ((k_end - k_begin) / 4u) * 4u;

  var c00 = vec4f(0.0); var c10 = vec4f(0.0); var c20 = vec4f(0.0); var c30 = vec4f(0.0);
#if ROWS8
  var c40 = vec4f(0.0); var c50 = vec4f(0.0); var c60 = vec4f(0.0); var c70 = vec4f(0.0);
#endif
#if COLS8
  var c01 = vec4f(0.0); var c11 = vec4f(0.0); var c21 = vec4f(0.0); var c31 = vec4f(0.0);
#if ROWS8
  var c41 = vec4f(0.0); var c51 = vec4f(0.0); var c61 = vec4f(0.0); var c71 = vec4f(0.0);
#endif
#endif

  var k = k_begin;
  for (; k < k4_end; k += 4u) {
    let b00 = load_b4(k, col);
    let b10 = load_b4(k + 1u, col);
    let b20 = load_b4(k + 2u, col);
    let b30 = load_b4(k + 3u, col);
#if COLS8
    let b01 = load_b4(k, col + 4u);
    let b11 = load_b4(k + 1u, col + 4u);
    let b21 = load_b4(k + 2u, col + 4u);
    let b31 = load_b4(k + 3u, col + 4u);
#endif
    let a0 = load_a4(row, k);
    let a1 = load_a4(row + 1u, k);
    let a2 = load_a4(row + 2u, k);
    let a3 = load_a4(row + 3u, k);
    c00 = gemm_mac4(c00, a0, b00, b10, b20, b30);
    c10 = gemm_mac4(c10, a1, b00, b10, b20, b30);
    c20 = gemm_mac4(c20, a2, b00, b10, b20, b30);
    c30 = gemm_mac4(c30, a3, b00, b10, b20, b30);
#if COLS8
    c01 = gemm_mac4(c01, a0, b01, b11, b21, b31);
    c11 = gemm_mac4(c11, a1, b01, b11, b21, b31);
    c21 = gemm_mac4(c21, a2, b01, b11, b21, b31);
    c31 = gemm_mac4(c31, a3, b01, b11, b21, b31);
#endif
#if ROWS8
    let a4 = load_a4(row + 4u, k);
    let a5 = load_a4(row + 5u, k);
    let a6 = load_a4(row + 6u, k);
    let a7 = load_a4(row + 7u, k);
    c40 = gemm_mac4(c40, a4, b00, b10, b20, b30);
    c50 = gemm_mac4(c50, a5, b00, b10, b20, b30);
    c60 = gemm_mac4(c60, a6, b00, b10, b20, b30);
    c70 = gemm_mac4(c70, a7, b00, b10, b20, b30);
#if COLS8
    c41 = gemm_mac4(c41, a4, b01, b11, b21, b31);
    c51 = gemm_mac4(c51, a5, b01, b11, b21, b31);
    c61 = gemm_mac4(c61, a6, b01, b11, b21, b31);
    c71 = gemm_mac4(c71, a7, b01, b11, b21, b31);
#endif
#endif
  }
  // The depth tail, one at a time: the sums stay exact for any K.
  for (; k < k_end; k++) {
    let b0 = load_b4(k, col);
    c00 += b0 * load_a(row, k);
    c10 += b0 * load_a(row + 1u, k);
    c20 += b0 * load_a(row + 2u, k);
    c30 += b0 * load_a(row + 3u, k);
#if ROWS8
    c40 += b0 * load_a(row + 4u, k);
    c50 += b0 * load_a(row + 5u, k);
    c60 += b0 * load_a(row + 6u, k);
    c70 += b0 * load_a(row + 7u, k);
#endif
#if COLS8
    let b1 = load_b4(k, col + 4u);
    c01 += b1 * load_a(row, k);
    c11 += b1 * load_a(row + 1u, k);
    c21 += b1 * load_a(row + 2u, k);
    c31 += b1 * load_a(row + 3u, k);
#if ROWS8
    c41 += b1 * load_a(row + 4u, k);
    c51 += b1 * load_a(row + 5u, k);
    c61 += b1 * load_a(row + 6u, k);
    c71 += b1 * load_a(row + 7u, k);
#endif
#endif
  }

  gemm_store4(row, col, z, c00);
  gemm_store4(row + 1u, col, z, c10);
  gemm_store4(row + 2u, col, z, c20);
  gemm_store4(row + 3u, col, z, c30);
#if ROWS8
  gemm_store4(row + 4u, col, z, c40);
  gemm_store4(row + 5u, col, z, c50);
  gemm_store4(row + 6u, col, z, c60);
  gemm_store4(row + 7u, col, z, c70);
#endif
#if COLS8
  gemm_store4(row, col + 4u, z, c01);
  gemm_store4(row + 1u, col + 4u, z, c11);
  gemm_store4(row + 2u, col + 4u, z, c21);
  gemm_store4(row + 3u, col + 4u, z, c31);
#if ROWS8
  gemm_store4(row + 4u, col + 4u, z, c41);
  gemm_store4(row + 5u, col + 4u, z, c51);
  gemm_store4(row + 6u, col + 4u, z, c61);
  gemm_store4(row + 7u, col + 4u, z, c71);
#endif
#endif
}
