// A bidirectional LSTM over many short sequences, each group of sequences
// with its own weights. Twin: src/cpu/lstm.ts, which gives the layouts.
//   FORWARD      forward:      one workgroup per (sequence, direction), the
//                              whole sequence in one dispatch
//   BACKWARD     backward:     backpropagation through time, the same grid
//   WEIGHT_GRAD  weight_grad:  one invocation per 4×4 tile of the weights and bias
//   else         input_grad:   one invocation per dx element
#include "lib/activation_fn"

struct Params {
  batch: u32,
  length: u32,
  groups: u32,
  input: u32,
  hidden: u32,
  // Invocations of the 1-D grids (weight_grad, input_grad).
  total: u32,
}

override WG: u32 = 64u;
// The hidden width, as an override so that the workgroup arrays can be sized by it.
override H: u32 = 32u;

@group(0) @binding(0) var<uniform> params: Params;

fn row_of(b: u32, t: u32, g: u32) -> u32 {
  return (b * params.length + t) * params.groups + g;
}

// Where the weights of group g, direction d begin: [W_ih; W_hh] is (I + H) rows of 4H.
fn weight_base(g: u32, d: u32) -> u32 {
  return (g * 2u + d) * (params.input + H) * 4u * H;
}

// The step processed k-th by direction d: forward t = 0..T-1, backward t = T-1..0.
fn time_of(d: u32, k: u32) -> u32 {
  return select(params.length - 1u - k, k, d == 0u);
}

// Some GPUs' tanh returns NaN for large |x|; at ±15 it is ±1 in f32 already.
fn tanh_clamped(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

#if FORWARD
@group(0) @binding(1) var<storage, read> x: array<f32>;
// Read four gate columns at a time: a row of the weights is 4H wide, so every
// row (and every (group, direction) block) starts on a vec4.
@group(0) @binding(2) var<storage, read> weight: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;
@group(0) @binding(5) var<storage, read_write> cs: array<f32>;
@group(0) @binding(6) var<storage, read_write> acts: array<f32>;

var<workgroup> h: array<f32, H>;
var<workgroup> c: array<f32, H>;
var<workgroup> gate: array<f32, 4u * H>;

// Two barriers a step: every gate reads all of h_{t-1}, and every unit reads
// its four gates. Steps are sequential by nature; sequences and directions
// are the parallelism (workgroup x, y).
@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let d = wid.y;
  let b = wid.x / params.groups;
  let g = wid.x % params.groups;
  let I = params.input;
  let gates = 4u * H;
  let w_base = weight_base(g, d);
  let b_base = (g * 2u + d) * gates;
  for (var u = lid.x; u < H; u += WG) {
    h[u] = 0.0;
    c[u] = 0.0;
  }
  workgroupBarrier();
  for (var k = 0u; k < params.length; k++) {
    let r = row_of(b, time_of(d, k), g);
    // One invocation per block of four gate columns j4·4 .. j4·4 + 3: each
    // column's sum in the twin's order, four at once.
    for (var j4 = lid.x; j4 < H; j4 += WG) {
      var z = bias[b_base / 4u + j4];
      for (var i = 0u; i < I; i++) { z += x[r * I + i] * weight[(w_base + i * gates) / 4u + j4]; }
      for (var i = 0u; i < H; i++) { z += h[i] * weight[(w_base + (I + i) * gates) / 4u + j4]; }
      for (var q = 0u; q < 4u; q++) {
        let j = j4 * 4u + q;
        var a: f32;
        if (j >= 2u * H && j < 3u * H) { a = tanh_clamped(z[q]); } else { a = sigmoid_f32(z[q]); }
        gate[j] = a;
        acts[(r * 2u + d) * gates + j] = a;
      }
    }
    workgroupBarrier();
    for (var u = lid.x; u < H; u += WG) {
      let c_new = gate[H + u] * c[u] + gate[u] * gate[2u * H + u];
      let h_new = gate[3u * H + u] * tanh_clamped(c_new);
      c[u] = c_new;
      h[u] = h_new;
      cs[r * 2u * H + d * H + u] = c_new;
      hs[r * 2u * H + d * H + u] = h_new;
    }
    workgroupBarrier();
  }
}
#elif BACKWARD
@group(0) @binding(1) var<storage, read> dhs: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<vec4f>;
@group(0) @binding(3) var<storage, read> cs: array<f32>;
@group(0) @binding(4) var<storage, read> acts: array<f32>;
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;

var<workgroup> dh_rec: array<f32, H>;
var<workgroup> dc_next: array<f32, H>;
var<workgroup> dz_step: array<vec4f, H>;

// Two barriers a step, as forward: every unit's dh needs all of the next
// step's dz through W_hh.
@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let d = wid.y;
  let b = wid.x / params.groups;
  let g = wid.x % params.groups;
  let I = params.input;
  let gates = 4u * H;
  let w_base = weight_base(g, d);
  for (var u = lid.x; u < H; u += WG) {
    dh_rec[u] = 0.0;
    dc_next[u] = 0.0;
  }
  workgroupBarrier();
  for (var kk = params.length; kk > 0u; kk--) {
    let k = kk - 1u;
    let r = row_of(b, time_of(d, k), g);
    let a = (r * 2u + d) * gates;
    for (var u = lid.x; u < H; u += WG) {
      let ai = acts[a + u];
      let af = acts[a + H + u];
      let ag = acts[a + 2u * H + u];
      let ao = acts[a + 3u * H + u];
      let tc = tanh_clamped(cs[r * 2u * H + d * H + u]);
      var c_prev = 0.0;
      if (k > 0u) { c_prev = cs[row_of(b, time_of(d, k - 1u), g) * 2u * H + d * H + u]; }
      let dh = dhs[r * 2u * H + d * H + u] + dh_rec[u];
      let dc = dc_next[u] + dh * ao * (1.0 - tc * tc);
      let grads = array<f32, 4>(dc * ag * ai * (1.0 - ai), dc * c_prev * af * (1.0 - af), dc * ai * (1.0 - ag * ag), dh * tc * ao * (1.0 - ao));
      dc_next[u] = dc * af;
      for (var q = 0u; q < 4u; q++) {
        let j = q * H + u;
        dz_step[j / 4u][j % 4u] = grads[q];
        dz[a + j] = grads[q];
      }
    }
    workgroupBarrier();
    // A row of W_hh against the step's dz, four columns at a time; the four
    // lanes' partial sums are added in column order at the end, as the twin
    // adds them (it keeps four running sums too: see src/cpu/lstm.ts).
    for (var u = lid.x; u < H; u += WG) {
      var sum = vec4f(0.0);
      for (var j4 = 0u; j4 < H; j4++) { sum += dz_step[j4] * weight[(w_base + (I + u) * gates) / 4u + j4]; }
      dh_rec[u] = ((sum.x + sum.y) + sum.z) + sum.w;
    }
    workgroupBarrier();
  }
}
#elif WEIGHT_GRAD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> hs: array<f32>;
@group(0) @binding(3) var<storage, read> dz: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbias: array<f32>;

// One input of a step, row rr of [x_t; h_prev; 1]: h_prev is the step
// before in this direction's order, 0 before its first.
fn step_input(b: u32, t: u32, g: u32, d: u32, rr: u32) -> f32 {
  let I = params.input;
  let T = params.length;
  if (rr < I) { return x[row_of(b, t, g) * I + rr]; }
  if (rr < I + H) {
    let has_prev = select(t + 1u < T, t > 0u, d == 0u);
    let tp = select(t + 1u, t - 1u, d == 0u);
    if (has_prev) { return hs[row_of(b, tp, g) * 2u * H + d * H + (rr - I)]; }
    return 0.0;
  }
  if (rr == I + H) { return 1.0; }
  return 0.0;
}

// One invocation per block of 4 gate columns and ROWS rows of the weight
// (the bias as its last row): each vec4 load of dz serves ROWS rows, a 4×4
// tile in registers. Each element's sum runs over (b, t) in the twin's order.
const ROWS: u32 = 4u;
@compute @workgroup_size(WG)
fn weight_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.total) { return; }
  let I = params.input;
  let gates = 4u * H;
  let rows = I + H + 1u;
  let blocks = (rows + ROWS - 1u) / ROWS;
  let j4 = e % H;
  let rb = (e / H) % blocks;
  let gd = e / (H * blocks);
  let d = gd % 2u;
  let g = gd / 2u;
  let r0 = rb * ROWS;
  var sum = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var b = 0u; b < params.batch; b++) {
    for (var t = 0u; t < params.length; t++) {
      let grad = dz[((row_of(b, t, g) * 2u + d) * gates) / 4u + j4];
      for (var q = 0u; q < ROWS; q++) { sum[q] += step_input(b, t, g, d, r0 + q) * grad; }
    }
  }
  for (var q = 0u; q < ROWS; q++) {
    let rr = r0 + q;
    for (var c = 0u; c < 4u; c++) {
      let j = j4 * 4u + c;
      if (rr < I + H) {
        dweight[(gd * (I + H) + rr) * gates + j] = sum[q][c];
      } else if (rr == I + H) {
        dbias[gd * gates + j] = sum[q][c];
      }
    }
  }
}
#else
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn input_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.total) { return; }
  let I = params.input;
  let gates = 4u * H;
  let i = e % I;
  let r = e / I;
  let g = r % params.groups;
  var sum = 0.0;
  for (var d = 0u; d < 2u; d++) {
    let w_base = weight_base(g, d) + i * gates;
    for (var j = 0u; j < gates; j++) { sum += dz[(r * 2u + d) * gates + j] * weight[w_base + j]; }
  }
  dx[e] = sum;
}
#endif
