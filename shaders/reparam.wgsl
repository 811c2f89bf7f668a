// Reparameterised sampling z = mu + sigma * eps and its backward pass.
// Twin: src/cpu/reparam.ts. sigma = exp(logvar / 2), or softplus(s) with SOFTPLUS.
#include "lib/activation_fn"
#include "lib/philox"

override WG: u32 = 64u;

fn sigma_of(p: f32) -> f32 {
#if SOFTPLUS
  return softplus_f32(p);
#else
  return exp(0.5 * p);
#endif
}

fn sigma_grad(p: f32) -> f32 {
#if SOFTPLUS
  return sigmoid_f32(p);
#else
  return 0.5 * exp(0.5 * p);
#endif
}

#if FORWARD
struct Params { n: u32, seed: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mu: array<f32>;
@group(0) @binding(2) var<storage, read> sigma_param: array<f32>;
@group(0) @binding(3) var<storage, read> step: array<u32>;
@group(0) @binding(4) var<storage, read_write> eps: array<f32>;
@group(0) @binding(5) var<storage, read_write> z: array<f32>;

// One Philox block per invocation: four consecutive elements.
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = gid.x + gid.y * groups.x * WG;
  let first = 4u * g;
  if (first >= params.n) { return; }
  let e = normal4(philox_block(params.seed, STREAM_NORMAL, step[0], g));
  for (var k = 0u; k < 4u; k++) {
    let i = first + k;
    if (i < params.n) {
      eps[i] = e[k];
      z[i] = mu[i] + sigma_of(sigma_param[i]) * e[k];
    }
  }
}
#else
struct Params { n: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read> eps: array<f32>;
@group(0) @binding(3) var<storage, read> sigma_param: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_mu: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_sigma_param: array<f32>;

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
#if ACCUMULATE
  // Onto the KL term's gradients already there: one pass instead of two adds.
  d_mu[i] = d_mu[i] + dz[i];
  d_sigma_param[i] = d_sigma_param[i] + dz[i] * eps[i] * sigma_grad(sigma_param[i]);
#else
  d_mu[i] = dz[i];
  d_sigma_param[i] = dz[i] * eps[i] * sigma_grad(sigma_param[i]);
#endif
}
#endif
