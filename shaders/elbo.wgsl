// Fused VAE loss: MSE reconstruction + beta * KL, and every gradient. Twin:
// src/cpu/elbo.ts. sigma = exp(logvar / 2), or softplus(s) with SOFTPLUS.
//
// SINGLE_PASS (any batch that fits a million elements, i.e. every VAE step
// here): one workgroup walks every element, tree-sums and writes the loss
// itself, one dispatch in all. Otherwise `gradients` leaves per-workgroup
// partial sums and `finalize` folds them in a fixed order. Either way the
// loss has the same bits on every run. STEP_LOSSES also stores the running
// total into step_losses[cursor], the per-step record an epoch keeps to find a
// divergent step (what a separate store_rows dispatch did before).
#include "lib/workgroup_reduce"
#include "lib/expm1_minus_x"

override WG: u32 = 256u;
// Elements per invocation in `gradients`, strided by WG so loads coalesce.
override ITEMS: u32 = 4u;

struct Params {
  recon_n: u32,           // B * D
  latent_n: u32,          // B * Z
  num_partials: u32,      // workgroups of `gradients`
  recon_grad_scale: f32,  // 2 / (B * D)
  kl_grad_scale: f32,     // beta / B
  inv_recon_n: f32,       // 1 / (B * D)
  inv_batch: f32,         // 1 / B
  beta: f32,
  step_capacity: u32,     // rows of step_losses
}

@group(0) @binding(0) var<uniform> params: Params;
var<workgroup> reduce_scratch: array<f32, WG>;

#if WRITES_LOSS
// Adds this step's loss into loss[0..2] (or overwrites it) and records the total;
// in the dispatch that finishes the sums (finalize, or the single pass).
fn write_loss(sq_total: f32, kl_total: f32) {
  let mse = sq_total * params.inv_recon_n;
  let kl = kl_total * params.inv_batch;
  let total = mse + params.beta * kl;
#if ACCUMULATE
  loss[0] = loss[0] + total;
  loss[1] = loss[1] + mse;
  loss[2] = loss[2] + kl;
#else
  loss[0] = total;
  loss[1] = mse;
  loss[2] = kl;
#endif
#if STEP_LOSSES
  let row = cursor[0];
  if (row < params.step_capacity) { step_losses[row] = loss[0]; }
#endif
}
#endif

#if FINALIZE
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
#if STEP_LOSSES
@group(0) @binding(3) var<storage, read> cursor: array<u32>;
@group(0) @binding(4) var<storage, read_write> step_losses: array<f32>;
#endif

// One workgroup folds the per-workgroup partial sums in a fixed order, so the
// loss has the same bits on every run.
@compute @workgroup_size(WG)
fn finalize(@builtin(local_invocation_id) lid: vec3u) {
  var sq_sum = 0.0;
  var kl_sum = 0.0;
  for (var first = 0u; first < params.num_partials; first += WG) {
    let q = first + lid.x;
    if (q < params.num_partials) {
      sq_sum += partials[2u * q];
      kl_sum += partials[2u * q + 1u];
    }
  }
  let sq_total = workgroup_sum(lid.x, sq_sum);
  let kl_total = workgroup_sum(lid.x, kl_sum);
  if (lid.x == 0u) { write_loss(sq_total, kl_total); }
}
#else
@group(0) @binding(1) var<storage, read> recon: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> mu: array<f32>;
@group(0) @binding(4) var<storage, read> sigma_param: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_recon: array<f32>;
@group(0) @binding(6) var<storage, read_write> d_mu: array<f32>;
@group(0) @binding(7) var<storage, read_write> d_sigma_param: array<f32>;
#if SINGLE_PASS
@group(0) @binding(8) var<storage, read_write> loss: array<f32>;
#if STEP_LOSSES
@group(0) @binding(9) var<storage, read> cursor: array<u32>;
@group(0) @binding(10) var<storage, read_write> step_losses: array<f32>;
#endif
#else
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;
#endif

// The transcendental helpers below avoid GPU log near 1 (WGSL only promises
// an absolute error of 2^-21 there, which is a large relative error in a small
// softplus or expm1) and stay finite for every input.

// log1p(u) / u for 0 <= u <= 1 without a logarithm: log1p(u) = 2 atanh(t) with
// t = u / (2 + u) <= 1/3, whose odd series is cut after t^14 (error < 2e-9).
fn log1p_over_u(u: f32) -> f32 {
  let t = u / (2.0 + u);
  let t2 = t * t;
  let series = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0
    + t2 * (1.0 / 11.0 + t2 * (1.0 / 13.0 + t2 * (1.0 / 15.0)))))));
  return 2.0 / (2.0 + u) * series;
}

// sigma = softplus(s), ln sigma, sigmoid(s) / sigma and sigmoid(s).
struct SoftplusParts { sigma: f32, ln_sigma: f32, sigmoid_over_sigma: f32, sigmoid: f32 }

fn softplus_parts(s: f32) -> SoftplusParts {
  let u = exp(-abs(s));
  let q = log1p_over_u(u);
  if (s <= 0.0) {
    // sigma = log1p(e^s) = u q, so ln sigma = s + ln q with q in [ln 2, 1]:
    // finite even where sigma itself underflows.
    return SoftplusParts(u * q, s + log(q), 1.0 / ((1.0 + u) * q), u / (1.0 + u));
  }
  let sd = s + u * q;
  let sg = 1.0 / (1.0 + u);
  return SoftplusParts(sd, log(sd), sg / sd, sg);
}

// One latent element's KL term -0.5 (1 + ln sigma^2 - m^2 - sigma^2).
fn kl_term(m: f32, p: f32) -> f32 {
#if SOFTPLUS
  let sp = softplus_parts(p);
  return 0.5 * (m * m + sp.sigma * sp.sigma - 1.0 - 2.0 * sp.ln_sigma);
#else
  return 0.5 * (m * m + expm1_minus_x(p));
#endif
}

// d kl_term / dp: 0.5 (exp(logvar) - 1), or (sigma - 1/sigma) sigmoid(s).
fn kl_grad(p: f32) -> f32 {
#if SOFTPLUS
  let sp = softplus_parts(p);
  return sp.sigma * sp.sigmoid - sp.sigmoid_over_sigma;
#else
  return 0.5 * (p + expm1_minus_x(p));
#endif
}

// Elements 0 .. recon_n-1 are reconstruction entries, the next latent_n are
// latent entries; each workgroup takes WG * ITEMS of them and leaves the two
// partial sums of its chunk.
@compute @workgroup_size(WG)
fn gradients(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let group = wid.x + wid.y * groups.x;
  // A folded grid has spare workgroups past the last chunk (uniform per workgroup).
  if (group >= params.num_partials) { return; }
  let first = group * WG * ITEMS;
  var sq_sum = 0.0;
  var kl_sum = 0.0;
  for (var k = 0u; k < ITEMS; k++) {
    let i = first + k * WG + lid.x;
    if (i < params.recon_n) {
      let d = recon[i] - targets[i];
      d_recon[i] = params.recon_grad_scale * d;
      sq_sum += d * d;
    } else if (i - params.recon_n < params.latent_n) {
      let j = i - params.recon_n;
      let m = mu[j];
      let p = sigma_param[j];
      d_mu[j] = params.kl_grad_scale * m;
      d_sigma_param[j] = params.kl_grad_scale * kl_grad(p);
      kl_sum += kl_term(m, p);
    }
  }
  let sq_total = workgroup_sum(lid.x, sq_sum);
  let kl_total = workgroup_sum(lid.x, kl_sum);
  if (lid.x == 0u) {
#if SINGLE_PASS
    write_loss(sq_total, kl_total);
#else
    partials[2u * group] = sq_total;
    partials[2u * group + 1u] = kl_total;
#endif
  }
}
#endif
