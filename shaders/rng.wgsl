// Random numbers as tensors: standard normals at (seed, step), and raw
// Philox blocks for explicit counters and keys. Twin: src/cpu/philox.ts.
#include "lib/philox"

override WG: u32 = 64u;

#if PHILOX
struct Params { rows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> counters: array<vec4u>;
@group(0) @binding(2) var<storage, read> keys: array<vec2u>;
@group(0) @binding(3) var<storage, read_write> blocks: array<vec4u>;

@compute @workgroup_size(WG)
fn philox(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.rows) { return; }
  blocks[i] = philox4x32_10(counters[i], keys[i]);
}
#else
struct Params { n: u32, seed: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> step: array<u32>;
@group(0) @binding(2) var<storage, read_write> eps: array<f32>;

// One Philox block per invocation: four consecutive elements.
@compute @workgroup_size(WG)
fn normal(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = gid.x + gid.y * groups.x * WG;
  let first = 4u * g;
  if (first >= params.n) { return; }
  let e = normal4(philox_block(params.seed, STREAM_NORMAL, step[0], g));
  for (var k = 0u; k < 4u; k++) {
    if (first + k < params.n) { eps[first + k] = e[k]; }
  }
}
#endif
