// Binary cross-entropy on logits, fused with its gradient. Twin: src/cpu/bce.ts.
// Per element: loss = max(z, 0) - z·y + log1p(exp(-|z|)), which never
// exponentiates a positive number, and dloss/dz = sigmoid(z) - y, computed as
// (1 - y)·sigmoid(z) - y·sigmoid(-z): the same number, but where sigmoid(z)
// rounds to 1 in f32 (z > 17) a target of 1 still gets its -sigmoid(-z)
// instead of 0.
// Each workgroup sums its chunk's losses with the fixed tree of
// lib/workgroup_reduce; with one workgroup (FINAL) it writes the mean itself,
// otherwise its partial, folded into the mean by reduce.wgsl's sum_all.
#include "lib/activation_fn"

struct Params {
  batch: u32,
  // Elements per workgroup; the last chunk may be shorter.
  chunk: u32,
  // 1 / batch, for the FINAL write.
  scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
#if FINAL
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
#else
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
#endif

var<workgroup> reduce_scratch: array<f32, WG>;
#include "lib/workgroup_reduce"

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
