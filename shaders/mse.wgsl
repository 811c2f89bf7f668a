// Mean squared error of a regression head, fused with its gradient. Twin: src/cpu/mse.ts.
// Per element: loss = (z - y)², dloss/dz = 2·(z - y) / batch. The loss is the
// plain mean (no ½), so the number a run reports is the MSE users compare.
// The batch mean is reduced by lib/batch_loss, as for bce.wgsl.
#include "lib/batch_loss"

@group(0) @binding(1) var<storage, read> outputs: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> doutputs: array<f32>;

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
  store_batch_loss(lid.x, wid.x, acc);
}
