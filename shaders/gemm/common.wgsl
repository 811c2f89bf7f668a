// Shared by the GEMM cores: one row of a register block over 4 depths, and
// the guarded store of 4 contiguous outputs (to the family's epilogue, or to
// the split-K partials).

// c += a.x·b0 + a.y·b1 + a.z·b2 + a.w·b3: one row of the block over 4 depths.
fn gemm_mac4(c: vec4f, a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return c + b0 * a.x + b1 * a.y + b2 * a.z + b3 * a.w;
}

fn gemm_store4(row: u32, col: u32, z: u32, v: vec4f) {
  if (row >= params.M) { return; }
  if (col < params.N) { gemm_emit(row, col, z, v.x); }
  if (col + 1u < params.N) { gemm_emit(row, col + 1u, z, v.y); }
  if (col + 2u < params.N) { gemm_emit(row, col + 2u, z, v.z); }
  if (col + 3u < params.N) { gemm_emit(row, col + 3u, z, v.w); }
}

fn gemm_emit(row: u32, col: u32, z: u32, v: f32) {
#if SPLIT_K
  partials[(z * params.M + row) * params.N + col] = v;
#else
  gemm_store(row, col, v);
#endif
}

