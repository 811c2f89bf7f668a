// GEMM core for thin outputs with a long depth (a conv's weight gradient,
// where the depth is batch x length; the 10-wide latent layers; a 1-wide
// logit): one workgroup of 64 invocations per 4x4 block of C splits the depth
// among its invocations, four consecutive depths at a time, and adds their
// partial blocks in a fixed tree in workgroup memory. One dispatch, and the
// same bits on every run, where split-K needs a second pass.
//
// Operand loads and epilogue as in gemm/register.wgsl.

const REDUCE_WG: u32 = 64u;

var<workgroup> partial_rows: array<vec4f, 256>;

@compute @workgroup_size(64)
fn gemm_reduce(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let col = wid.x * 4u;
  let row = wid.y * 4u;
  let lane = lid.x;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  let k4_end = (params.K / 4u) * 4u;
  for (var k = 4u * lane; k < k4_end; k += 4u * REDUCE_WG) {
    let b0 = load_b4(k, col);
    let b1 = load_b4(k + 1u, col);
    let b2 = load_b4(k + 2u, col);
    let b3 = load_b4(k + 3u, col);
    c0 = gemm_mac4(c0, load_a4(row, k), b0, b1, b2, b3);
    c1 = gemm_mac4(c1, load_a4(row + 1u, k), b0, b1, b2, b3);
    c2 = gemm_mac4(c2, load_a4(row + 2u, k), b0, b1, b2, b3);
    c3 = gemm_mac4(c3, load_a4(row + 3u, k), b0, b1, b2, b3);
  }
  // The depth tail (K mod 4 < 4 depths) goes to the first lanes.
  let k = k4_end + lane;
  if (k < params.K) {
    let b = load_b4(k, col);
    c0 += b * load_a(row, k);
    c1 += b * load_a(row + 1u, k);
    c2 += b * load_a(row + 2u, k);
    c3 += b * load_a(row + 3u, k);
  }
  partial_rows[4u * lane] = c0;
  partial_rows[4u * lane + 1u] = c1;
  partial_rows[4u * lane + 2u] = c2;
  partial_rows[4u * lane + 3u] = c3;
  workgroupBarrier();
  for (var stride = REDUCE_WG / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      let other = 4u * (lane + stride);
      partial_rows[4u * lane] += partial_rows[other];
      partial_rows[4u * lane + 1u] += partial_rows[other + 1u];
      partial_rows[4u * lane + 2u] += partial_rows[other + 2u];
      partial_rows[4u * lane + 3u] += partial_rows[other + 3u];
    }
    workgroupBarrier();
  }
  if (lane < 4u) { gemm_store4(row + lane, col, 0u, partial_rows[lane]); }
}
