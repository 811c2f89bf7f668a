// Mean squared error of a regression head, fused with its gradient. Twin: src/cpu/mse.ts.
// Per element: loss = (z - y)², dloss/dz = 2·(z - y) / batch. The loss is the
// plain mean (no ½), so the number a run reports is the MSE users compare.
// The reduction follows bce.wgsl: each workgroup sums its chunk with the
// fixed tree of lib/workgroup_reduce; with one workgroup (FINAL) it writes the
// mean itself, otherwise its partial, folded by reduce.wgsl's sum_all.

struct Params {
  batch: u32,
  // Elements per workgroup; the last chunk may be shorter.
  chunk: u32,
  // 1 / batch, for the FINAL write.
  scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> outputs: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> doutputs: array<f32>;
#if FINAL
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
#else
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
#endif

var<workgroup> reduce_scratch: array<f32, WG>;
#include "lib/workgroup_reduce"

@compute @workgroup_size(WG)
fn mean_squared_error(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let first = wid.x * params.chunk;
  let end = min(params.batch, first + params.chunk);
  var acc = 0.0;
  for (var i = first + lid.x; i < end; i += WG) {
    let r = outputs[i] - targets[i];
    acc += r * r;
    doutputs[i] = 2.0 * r / f32(params.batch);
  }
  let total = workgroup_sum(lid.x, acc);
  if (lid.x == 0u) {
#if FINAL
#if ACCUMULATE
    loss[0] = loss[0] + params.scale * total;
#else
    loss[0] = params.scale * total;
#endif
#else
    partials[wid.x] = total;
#endif
  }
}
