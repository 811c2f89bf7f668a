// Dropout with a counter-based mask: y = x * mask / (1 - p), and its backward
// pass. Twin: src/cpu/dropout.ts.
#include "lib/philox"

override WG: u32 = 256u;

#if FORWARD
struct Params { n: u32, seed: u32, threshold: u32, scale: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> step: array<u32>;
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// One Philox block per invocation: four consecutive elements.
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = gid.x + gid.y * groups.x * WG;
  let first = 4u * g;
  if (first >= params.n) { return; }
  let words = philox_block(params.seed, STREAM_DROPOUT, step[0], g);
  for (var k = 0u; k < 4u; k++) {
    let i = first + k;
    if (i < params.n) {
      let keep = select(0u, 1u, words[k] >= params.threshold);
      mask[i] = keep;
      y[i] = x[i] * (f32(keep) * params.scale);
    }
  }
}
#else
struct Params { n: u32, scale: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  dx[i] = dy[i] * (f32(mask[i]) * params.scale);
}
#endif
