// The bias gradient of a convolution where it cannot ride along in the weight
// gradient's GEMM (a transposed conv whose output is longer than its input):
//   bias_grad    out[z, n] = the tree sum of g[r, n] (gated by act'(y) with
//                GATE_GRAD) over the rows r of chunk z
//   sum_splits   total[i] = sum over z of partial[z, i], in order of z
// so the result is the same on every run. Twin: convBiasGrad in src/cpu/conv1d.ts.
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

#endif
