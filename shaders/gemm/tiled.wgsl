// GEMM core, workgroup-memory tiled: a 16x16 workgroup owns a 64x64 tile of
// C, staging BK = 16 deep slices of op(A) and op(B) through workgroup memory,
// and each invocation keeps a 4x4 block (4 contiguous columns of 4 rows) in
// four vec4 accumulators. This is the classic design for GPUs whose shared
// memory is much faster than their caches; the same operand loads and epilogue
// as gemm/register.wgsl (see there for what the family shader supplies).
//
// Napkin math: each slice loads (64 + 64)·16 floats for 64·64·16 FMAs, i.e.
// 16 FMAs per global load; per depth an invocation reads one vec4 of A and
// one of B from workgroup memory for 16 FMAs.

const TILE: u32 = 64u;
const BK: u32 = 16u;

// a_tile[kk][row/4] holds rows 4q .. 4q+3 at depth kk; b_tile[kk][col/4] the same for columns.
var<workgroup> a_tile: array<vec4f, 256>;
var<workgroup> b_tile: array<vec4f, 256>;

@compute @workgroup_size(16, 16)
fn gemm_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let flat = lid.y * 16u + lid.x;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  // Each invocation stages one vec4 of each tile: rows (or columns) 4q .. 4q+3 at depth kk.
  let q = flat % 16u;
  let kk = flat / 16u;
  for (var k0 = 0u; k0 < params.K; k0 += BK) {
    let k = k0 + kk;
    var av = vec4f(0.0);
    var bv = vec4f(0.0);
    // Past the depth both operands are zero, so the slice adds nothing there.
    if (k < params.K) {
      let r = row0 + 4u * q;
      av = vec4f(load_a(r, k), load_a(r + 1u, k), load_a(r + 2u, k), load_a(r + 3u, k));
      bv = load_b4(k, col0 + 4u * q);
    }
    a_tile[kk * 16u + q] = av;
    b_tile[kk * 16u + q] = bv;
    workgroupBarrier();
    for (var d = 0u; d < BK; d++) {
      let a = a_tile[d * 16u + lid.y];
      let b = b_tile[d * 16u + lid.x];
      c0 += b * a.x;
      c1 += b * a.y;
      c2 += b * a.z;
      c3 += b * a.w;
    }
    workgroupBarrier();
  }
  let row = row0 + 4u * lid.y;
  let col = col0 + 4u * lid.x;
  gemm_store4(row, col, 0u, c0);
  gemm_store4(row + 1u, col, 0u, c1);
  gemm_store4(row + 2u, col, 0u, c2);
  gemm_store4(row + 3u, col, 0u, c3);
}
