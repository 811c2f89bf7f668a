// Softmax attention pooling of sequences with a context vector per group.
// Twin: src/cpu/attentionPool.ts, which gives the layouts.
//   FORWARD       forward:       one workgroup per sequence
//   BACKWARD      backward:      one workgroup per sequence: dh and dscore
//   else          context_grad:  one invocation per context element

struct Params {
  batch: u32,
  length: u32,
  groups: u32,
  width: u32,
  // Positions that count (<= length); the rest are masked out.
  valid: u32,
  // Invocations of context_grad's 1-D grid.
  total: u32,
}

override WG: u32 = 64u;
// The sequence length, as an override so that the workgroup arrays can be sized by it.
override LEN: u32 = 1u;

@group(0) @binding(0) var<uniform> params: Params;

fn row_of(b: u32, t: u32, g: u32) -> u32 {
  return (b * params.length + t) * params.groups + g;
}

#if FORWARD
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> context: array<f32>;
@group(0) @binding(3) var<storage, read_write> pooled: array<f32>;
@group(0) @binding(4) var<storage, read_write> alpha: array<f32>;

var<workgroup> weight: array<f32, LEN>;

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let seq = wid.x;
  let b = seq / params.groups;
  let g = seq % params.groups;
  let D = params.width;
  let L = params.valid;
  for (var t = lid.x; t < L; t += WG) {
    var sum = 0.0;
    for (var d = 0u; d < D; d++) { sum += h[row_of(b, t, g) * D + d] * context[g * D + d]; }
    weight[t] = sum;
  }
  workgroupBarrier();
  // The sequences are short (bins, marks): one invocation takes the maximum
  // and the normaliser in step order, as the twin does, rather than a tree.
  if (lid.x == 0u) {
    var m = weight[0];
    for (var t = 1u; t < L; t++) { m = max(m, weight[t]); }
    var total = 0.0;
    for (var t = 0u; t < L; t++) {
      let e = exp(weight[t] - m);
      weight[t] = e;
      total += e;
    }
    for (var t = 0u; t < L; t++) { weight[t] = weight[t] / total; }
  }
  workgroupBarrier();
  for (var t = lid.x; t < params.length; t += WG) {
    var a = 0.0;
    if (t < L) { a = weight[t]; }
    alpha[seq * params.length + t] = a;
  }
  for (var d = lid.x; d < D; d += WG) {
    var sum = 0.0;
    for (var t = 0u; t < L; t++) { sum += weight[t] * h[row_of(b, t, g) * D + d]; }
    pooled[seq * D + d] = sum;
  }
}
#elif BACKWARD
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> h: array<f32>;
@group(0) @binding(3) var<storage, read> context: array<f32>;
@group(0) @binding(4) var<storage, read> alpha: array<f32>;
@group(0) @binding(5) var<storage, read_write> dh: array<f32>;
@group(0) @binding(6) var<storage, read_write> dscore: array<f32>;

var<workgroup> dalpha: array<f32, LEN>;
var<workgroup> mean: f32;

@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let seq = wid.x;
  let b = seq / params.groups;
  let g = seq % params.groups;
  let D = params.width;
  let T = params.length;
  let L = params.valid;
  for (var t = lid.x; t < L; t += WG) {
    var sum = 0.0;
    for (var d = 0u; d < D; d++) { sum += dout[seq * D + d] * h[row_of(b, t, g) * D + d]; }
    dalpha[t] = sum;
  }
  workgroupBarrier();
  if (lid.x == 0u) {
    var m = 0.0;
    for (var t = 0u; t < L; t++) { m += alpha[seq * T + t] * dalpha[t]; }
    mean = m;
  }
  workgroupBarrier();
  let m = mean;
  for (var t = lid.x; t < T; t += WG) {
    var ds = 0.0;
    if (t < L) { ds = alpha[seq * T + t] * (dalpha[t] - m); }
    dscore[seq * T + t] = ds;
  }
  // dh recomputes dscore_t from alpha and dalpha (both in reach) rather than wait on another barrier.
  for (var e = lid.x; e < T * D; e += WG) {
    let t = e / D;
    let d = e % D;
    var grad = 0.0;
    if (t < L) {
      let a = alpha[seq * T + t];
      grad = a * dout[seq * D + d] + a * (dalpha[t] - m) * context[g * D + d];
    }
    dh[row_of(b, t, g) * D + d] = grad;
  }
}
#else
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> dscore: array<f32>;
@group(0) @binding(3) var<storage, read_write> dcontext: array<f32>;

@compute @workgroup_size(WG)
fn context_grad(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= params.total) { return; }
  let D = params.width;
  let g = e / D;
  let d = e % D;
  var sum = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    for (var t = 0u; t < params.valid; t++) {
      sum += dscore[(b * params.groups + g) * params.length + t] * h[row_of(b, t, g) * D + d];
    }
  }
  dcontext[e] = sum;
}
#endif
