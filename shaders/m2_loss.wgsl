// Kingma et al.'s M2 loss for one step and all its gradients. Twin:
// src/cpu/m2Loss.ts, which states the formula. Rows: `labeled` rows with
// their own labels, then `unlabeled` rows as y = 0, then the same rows as
// y = 1 (label_concat's layout); x and logits have one row per distinct gene
// (labeled + unlabeled).
//   `rows`    one workgroup per row: that row's reconstruction and latent
//             gradients (scaled by the row's weight, which needs only the
//             logits) and its -ELBO into row_loss.
//   `combine` one workgroup: the logits' gradients (the unlabeled ones need
//             both rows' -ELBO) and the total, summed in a fixed tree so the
//             loss has the same bits on every run.
#include "lib/workgroup_reduce"
#include "lib/activation_fn"
#include "lib/expm1_minus_x"

override WG: u32 = 64u;

struct Params {
  labeled: u32,
  unlabeled: u32,
  features: u32,        // D
  latent: u32,          // Z
  recon_weight: f32,
  kl_weight: f32,
  labeled_weight: f32,
  class_weight: f32,
  unlabeled_weight: f32,
  step_capacity: u32,   // rows of step_losses
}

@group(0) @binding(0) var<uniform> params: Params;
var<workgroup> reduce_scratch: array<f32, WG>;

#if COMBINE
@group(0) @binding(1) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_logits: array<f32>;
#if STEP_LOSSES
@group(0) @binding(6) var<storage, read> cursor: array<u32>;
@group(0) @binding(7) var<storage, read_write> step_losses: array<f32>;
#endif

@compute @workgroup_size(WG)
fn combine(@builtin(local_invocation_id) lid: vec3u) {
  let b_rows = params.labeled;
  let u_rows = params.unlabeled;
  var acc = 0.0;
  for (var i = lid.x; i < b_rows + u_rows; i += WG) {
    let z = logits[i];
    if (i < b_rows) {
      let t = y[i];
      acc += params.labeled_weight * row_loss[i] + params.class_weight * (max(z, 0.0) - z * t + log1p_f32(exp(-abs(z))));
      d_logits[i] = params.class_weight * ((1.0 - t) * sigmoid_f32(z) - t * sigmoid_f32(-z));
    } else {
      let q1 = sigmoid_f32(z);
      let q0 = sigmoid_f32(-z);
      let l0 = row_loss[i];
      let l1 = row_loss[i + u_rows];
      // -H(q) = q1 ln q1 + q0 ln q0, with ln q1 = -softplus(-z), ln q0 = -softplus(z).
      let neg_entropy = -(q1 * softplus_f32(-z) + q0 * softplus_f32(z));
      acc += params.unlabeled_weight * (q0 * l0 + q1 * l1 + neg_entropy);
      d_logits[i] = params.unlabeled_weight * q0 * q1 * (l1 - l0 + z);
    }
  }
  let total = workgroup_sum(lid.x, acc);
  if (lid.x == 0u) {
#if ACCUMULATE
    loss[0] = loss[0] + total;
#else
    loss[0] = total;
#endif
#if STEP_LOSSES
    let row = cursor[0];
    if (row < params.step_capacity) { step_losses[row] = loss[0]; }
#endif
  }
}
#else
@group(0) @binding(1) var<storage, read> recon: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> mu: array<f32>;
@group(0) @binding(4) var<storage, read> logvar: array<f32>;
@group(0) @binding(5) var<storage, read> logits: array<f32>;
@group(0) @binding(6) var<storage, read_write> d_recon: array<f32>;
@group(0) @binding(7) var<storage, read_write> d_mu: array<f32>;
@group(0) @binding(8) var<storage, read_write> d_logvar: array<f32>;
@group(0) @binding(9) var<storage, read_write> row_loss: array<f32>;

@compute @workgroup_size(WG)
fn rows(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = wid.x + wid.y * groups.x;
  let b_rows = params.labeled;
  let u_rows = params.unlabeled;
  // A folded grid has spare workgroups past the last row (uniform per workgroup).
  if (r >= b_rows + 2u * u_rows) { return; }
  var src = r;
  if (r >= b_rows + u_rows) { src = r - u_rows; }
  var weight = params.labeled_weight;
  if (r >= b_rows) {
    let z = logits[src];
    weight = params.unlabeled_weight * select(sigmoid_f32(-z), sigmoid_f32(z), r >= b_rows + u_rows);
  }
  let d_n = params.features;
  let z_n = params.latent;
  let recon_scale = weight * params.recon_weight * 2.0;
  let kl_scale = weight * params.kl_weight;
  var sq = 0.0;
  var kl = 0.0;
  for (var i = lid.x; i < d_n + z_n; i += WG) {
    if (i < d_n) {
      let e = recon[r * d_n + i] - x[src * d_n + i];
      d_recon[r * d_n + i] = recon_scale * e;
      sq += e * e;
    } else {
      let j = r * z_n + (i - d_n);
      let m = mu[j];
      let p = logvar[j];
      d_mu[j] = kl_scale * m;
      d_logvar[j] = kl_scale * 0.5 * (p + expm1_minus_x(p));
      kl += 0.5 * (m * m + expm1_minus_x(p));
    }
  }
  let sq_total = workgroup_sum(lid.x, sq);
  let kl_total = workgroup_sum(lid.x, kl);
  if (lid.x == 0u) { row_loss[r] = params.recon_weight * sq_total + params.kl_weight * kl_total; }
}
#endif
