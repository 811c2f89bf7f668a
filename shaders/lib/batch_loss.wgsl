// What every per-element loss of a batch shares (bce.wgsl, mse.wgsl): the
// uniform, the loss output at binding 4 and the reduction into it. The
// including shader declares its bindings 1..3, sums its elements' losses into
// one value per invocation and ends with store_batch_loss, from uniform control
// flow. Each workgroup sums its chunk with the fixed tree of
// lib/workgroup_reduce; with one workgroup (FINAL) it writes the mean itself
// (or adds it, ACCUMULATE), otherwise its partial, which reduce.wgsl's sum_all
// folds into the mean.

struct Params {
  batch: u32,
  // Elements per workgroup; the last chunk may be shorter.
  chunk: u32,
  // 1 / batch, for the FINAL write.
  scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
#if FINAL
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
#else
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
#endif

var<workgroup> reduce_scratch: array<f32, WG>;
#include "lib/workgroup_reduce"

fn store_batch_loss(local: u32, group: u32, acc: f32) {
  let total = workgroup_sum(local, acc);
  if (local == 0u) {
#if FINAL
#if ACCUMULATE
    loss[0] = loss[0] + params.scale * total;
#else
    loss[0] = params.scale * total;
#endif
#else
    partials[group] = total;
#endif
  }
}
