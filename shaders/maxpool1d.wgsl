// Max-pool over the length axis of channels-last x [batch, length, channels],
// window = stride = POOL, tail dropped. Twin: src/cpu/maxpool1d.ts.

struct Params {
  batch: u32,
  length: u32,
  channels: u32,
  pool: u32,
  out_length: u32,
  // Elements of the grid: batch * out_length * channels forward,
  // batch * length * channels backward.
  total: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;

#if FORWARD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;

// One invocation per output element; neighbouring invocations are
// neighbouring channels, so every load is contiguous across the workgroup.
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.total) { return; }
  let c = i % params.channels;
  let bo = i / params.channels;
  let o = bo % params.out_length;
  let b = bo / params.out_length;
  let start = o * params.pool;
  let row = b * params.length;
  var best = x[(row + start) * params.channels + c];
  var best_at = start;
  for (var p = 1u; p < params.pool; p++) {
    let v = x[(row + start + p) * params.channels + c];
    // Strictly greater: on ties the first position keeps the maximum.
    if (v > best) {
      best = v;
      best_at = start + p;
    }
  }
  y[i] = best;
  argmax[i] = best_at;
}
#else
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// Windows do not overlap, so each input position has at most one window that
// could route gradient to it: a gather, one invocation per dx element.
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.total) { return; }
  let c = i % params.channels;
  let bl = i / params.channels;
  let l = bl % params.length;
  let b = bl / params.length;
  let o = l / params.pool;
  var grad = 0.0;
  if (o < params.out_length) {
    let j = (b * params.out_length + o) * params.channels + c;
    if (argmax[j] == l) { grad = dy[j]; }
  }
  dx[i] = grad;
}
#endif
