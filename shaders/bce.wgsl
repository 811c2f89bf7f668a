// Binary cross-entropy on logits, fused with its gradient. Twin: src/cpu/bce.ts.
// Per element: loss = max(z, 0) - z·y + log1p(exp(-|z|)), which never
// exponentiates a positive number, and dloss/dz = sigmoid(z) - y, computed as
// (1 - y)·sigmoid(z) - y·sigmoid(-z): the same number, but where sigmoid(z)
// rounds to 1 in f32 (z > 17) a target of 1 still gets its -sigmoid(-z)
// instead of 0. The batch mean is reduced by lib/batch_loss.
#include "lib/activation_fn"
#include "lib/batch_loss"

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(WG)
fn bce_with_logits(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let first = wid.x * params.chunk;
  let end = min(params.batch, first + params.chunk);
  var acc = 0.0;
  for (var i = first + lid.x; i < end; i += WG) {
    let z = logits[i];
    let y = targets[i];
    acc += max(z, 0.0) - z * y + log1p_f32(exp(-abs(z)));
    dlogits[i] = ((1.0 - y) * sigmoid_f32(z) - y * sigmoid_f32(-z)) / f32(params.batch);
  }
  store_batch_loss(lid.x, wid.x, acc);
}
