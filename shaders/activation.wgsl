// Elementwise activations, forward and backward. Twin: src/cpu/activation.ts.
#include "lib/activation_fn"

struct Params { n: u32 }

override ACT: u32 = 0u;
override ALPHA: f32 = 0.0;
override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;

#if FORWARD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  y[i] = activate(x[i], ACT, ALPHA);
}
#else
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  dx[i] = dy[i] * activate_grad_from_output(y[i], ACT, ALPHA);
}
#endif
