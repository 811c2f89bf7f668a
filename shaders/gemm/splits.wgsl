// The second pass of a split-K GEMM (gemm/register.wgsl with SPLIT_K): one
// invocation per output, adding partials[z, row, col] in order of z (so the
// same inputs give the same bits on every run) and handing the total to the
// family's epilogue gemm_store. Grid: 1-D over M·N, folded into y past 65535
// workgroups.

override SUM_WG: u32 = 64u;

@compute @workgroup_size(SUM_WG)
fn gemm_sum_splits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * SUM_WG;
  let count = params.M * params.N;
  if (i >= count) { return; }
  var total = 0.0;
  for (var z = 0u; z < params.splits; z++) {
    total += partials[z * count + i];
  }
  gemm_store(i / params.N, i % params.N, total);
}
