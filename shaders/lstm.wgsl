// A bidirectional LSTM over many short sequences, each group of sequences
// with its own weights. Twin: src/cpu/lstm.ts, which gives the layouts.
//   FORWARD      forward:      one workgroup per S sequences of a group and a
//                              direction, the whole sequence in one dispatch
//   BACKWARD     backward:     backpropagation through time, the same grid
//   WEIGHT_GRAD  weight_grad:  one invocation per 8 rows × 4 columns of the weights and bias
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
// forward and backward: sequences of one group and direction a workgroup steps
// through together (1, 2, 4 or 8, with the flags SEQ2, SEQ4, SEQ8 that name
// their accumulators: 2 sets SEQ2, 4 also SEQ4, 8 all three).
override S: u32 = 1u;

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
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;
@group(0) @binding(5) var<storage, read_write> cs: array<f32>;
@group(0) @binding(6) var<storage, read_write> acts: array<f32>;

// h of the S sequences in two buffers (the step reads one, writes the other),
// so one barrier a step suffices; c is read and written only by its unit's
// invocation, so it needs none.
var<workgroup> h: array<f32, 2u * S * H>;
var<workgroup> c: array<f32, S * H>;

// The four gates i, f, g, o of units u0 .. u0 + 3 (one column each) in the
// row of [W_ih; W_hh] (or the bias) that starts at `base`. Units past H
// (H not a multiple of 4) repeat unit H - 1 and are never stored.
fn unit_gates(base: u32, u: u32) -> vec4f {
  let v = min(u, H - 1u);
  return vec4f(weight[base + v], weight[base + H + v], weight[base + 2u * H + v], weight[base + 3u * H + v]);
}

fn weight_block(base: u32, u0: u32) -> mat4x4f {
  return mat4x4f(unit_gates(base, u0), unit_gates(base, u0 + 1u), unit_gates(base, u0 + 2u), unit_gates(base, u0 + 3u));
}

fn bias_gates(base: u32, u: u32) -> vec4f {
  let v = min(u, H - 1u);
  return vec4f(bias[base + v], bias[base + H + v], bias[base + 2u * H + v], bias[base + 3u * H + v]);
}

// The four units' cells of sequence slot s, those below H.
fn forward_cells(s: u32, u0: u32, m: mat4x4f, r: u32, live: bool, d: u32, next_buf: u32) {
  forward_cell(s, u0, m[0], r, live, d, next_buf);
  if (u0 + 1u < H) { forward_cell(s, u0 + 1u, m[1], r, live, d, next_buf); }
  if (u0 + 2u < H) { forward_cell(s, u0 + 2u, m[2], r, live, d, next_buf); }
  if (u0 + 3u < H) { forward_cell(s, u0 + 3u, m[3], r, live, d, next_buf); }
}

// Unit u of sequence slot s after its gates' sums z: the nonlinearities, the
// cell update, h into the next_buf buffer, and (for a real sequence) the outputs.
fn forward_cell(s: u32, u: u32, z: vec4f, r: u32, live: bool, d: u32, next_buf: u32) {
  let ig = sigmoid_f32(z.x);
  let fg = sigmoid_f32(z.y);
  let gg = tanh_clamped(z.z);
  let og = sigmoid_f32(z.w);
  let c_new = fg * c[s * H + u] + ig * gg;
  let h_new = og * tanh_clamped(c_new);
  c[s * H + u] = c_new;
  h[(next_buf + s) * H + u] = h_new;
  if (live) {
    let a = (r * 2u + d) * 4u * H + u;
    acts[a] = ig;
    acts[a + H] = fg;
    acts[a + 2u * H] = gg;
    acts[a + 3u * H] = og;
    cs[r * 2u * H + d * H + u] = c_new;
    hs[r * 2u * H + d * H + u] = h_new;
  }
}

// Workgroup (block of S sequences · G + group, direction); an invocation per
// unit u holds the four gates of u for each of the S sequences (z0 .. z7,
// named, not an indexed array), so each weight load serves S sequences: a
// step is the product [S × (I + H)] · [(I + H) × 4H]. Slots past the batch
// recompute the last sequence and write nothing.
@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let d = wid.y;
  let g = wid.x % params.groups;
  let b0 = (wid.x / params.groups) * S;
  let last = params.batch - 1u;
  let I = params.input;
  let gates = 4u * H;
  let w_base = weight_base(g, d);
  let b_base = (g * 2u + d) * gates;
  for (var e = lid.x; e < S * H; e += WG) {
    h[e] = 0.0;
    h[S * H + e] = 0.0;
    c[e] = 0.0;
  }
  workgroupBarrier();
  for (var k = 0u; k < params.length; k++) {
    let t = time_of(d, k);
    let cur = (k % 2u) * S;
    let next_buf = S - cur;
    let r0 = row_of(min(b0, last), t, g);
#if SEQ2
    let r1 = row_of(min(b0 + 1u, last), t, g);
#endif
#if SEQ4
    let r2 = row_of(min(b0 + 2u, last), t, g);
    let r3 = row_of(min(b0 + 3u, last), t, g);
#endif
#if SEQ8
    let r4 = row_of(min(b0 + 4u, last), t, g);
    let r5 = row_of(min(b0 + 5u, last), t, g);
    let r6 = row_of(min(b0 + 6u, last), t, g);
    let r7 = row_of(min(b0 + 7u, last), t, g);
#endif
    for (var u0 = lid.x * 4u; u0 < H; u0 += 4u * WG) {
      // Column q of m_s: the gates i, f, g, o of unit u0 + q, each summed in the
      // twin's order (the bias, then the rows of x and of h).
      let bz = mat4x4f(bias_gates(b_base, u0), bias_gates(b_base, u0 + 1u), bias_gates(b_base, u0 + 2u), bias_gates(b_base, u0 + 3u));
      var m0 = bz;
#if SEQ2
      var m1 = bz;
#endif
#if SEQ4
      var m2 = bz;
      var m3 = bz;
#endif
#if SEQ8
      var m4 = bz;
      var m5 = bz;
      var m6 = bz;
      var m7 = bz;
#endif
      for (var i = 0u; i < I; i++) {
        let w = weight_block(w_base + i * gates, u0);
        m0 += w * x[r0 * I + i];
#if SEQ2
        m1 += w * x[r1 * I + i];
#endif
#if SEQ4
        m2 += w * x[r2 * I + i];
        m3 += w * x[r3 * I + i];
#endif
#if SEQ8
        m4 += w * x[r4 * I + i];
        m5 += w * x[r5 * I + i];
        m6 += w * x[r6 * I + i];
        m7 += w * x[r7 * I + i];
#endif
      }
      for (var i = 0u; i < H; i++) {
        let w = weight_block(w_base + (I + i) * gates, u0);
        m0 += w * h[(cur + 0u) * H + i];
#if SEQ2
        m1 += w * h[(cur + 1u) * H + i];
#endif
#if SEQ4
        m2 += w * h[(cur + 2u) * H + i];
        m3 += w * h[(cur + 3u) * H + i];
#endif
#if SEQ8
        m4 += w * h[(cur + 4u) * H + i];
        m5 += w * h[(cur + 5u) * H + i];
        m6 += w * h[(cur + 6u) * H + i];
        m7 += w * h[(cur + 7u) * H + i];
#endif
      }
      forward_cells(0u, u0, m0, r0, b0 + 0u <= last, d, next_buf);
#if SEQ2
      forward_cells(1u, u0, m1, r1, b0 + 1u <= last, d, next_buf);
#endif
#if SEQ4
      forward_cells(2u, u0, m2, r2, b0 + 2u <= last, d, next_buf);
      forward_cells(3u, u0, m3, r3, b0 + 3u <= last, d, next_buf);
#endif
#if SEQ8
      forward_cells(4u, u0, m4, r4, b0 + 4u <= last, d, next_buf);
      forward_cells(5u, u0, m5, r5, b0 + 5u <= last, d, next_buf);
      forward_cells(6u, u0, m6, r6, b0 + 6u <= last, d, next_buf);
      forward_cells(7u, u0, m7, r7, b0 + 7u <= last, d, next_buf);
#endif
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

// The step's dz of the S sequences in two buffers (one barrier a step, as
// forward); dh_rec and dc_next are read and written only by their units' invocation.
var<workgroup> dz_step: array<vec4f, 2u * S * H>;
var<workgroup> dh_rec: array<f32, S * H>;
var<workgroup> dc_next: array<f32, S * H>;

// Unit u of sequence slot s at step k: its four gates' dz into buffer `buf`
// (and, for a real sequence, out), and dc through the forget gate for step k - 1.
fn backward_cell(s: u32, u: u32, b: u32, live: bool, g: u32, d: u32, k: u32, buf: u32) {
  let r = row_of(b, time_of(d, k), g);
  let a = (r * 2u + d) * 4u * H;
  let ai = acts[a + u];
  let af = acts[a + H + u];
  let ag = acts[a + 2u * H + u];
  let ao = acts[a + 3u * H + u];
  let tc = tanh_clamped(cs[r * 2u * H + d * H + u]);
  var c_prev = 0.0;
  if (k > 0u) { c_prev = cs[row_of(b, time_of(d, k - 1u), g) * 2u * H + d * H + u]; }
  let dh = dhs[r * 2u * H + d * H + u] + dh_rec[s * H + u];
  let dc = dc_next[s * H + u] + dh * ao * (1.0 - tc * tc);
  let grads = vec4f(dc * ag * ai * (1.0 - ai), dc * c_prev * af * (1.0 - af), dc * ai * (1.0 - ag * ag), dh * tc * ao * (1.0 - ao));
  dc_next[s * H + u] = dc * af;
  let base = (buf + s) * H;
  dz_step[base + u / 4u][u % 4u] = grads.x;
  dz_step[base + (H + u) / 4u][(H + u) % 4u] = grads.y;
  dz_step[base + (2u * H + u) / 4u][(2u * H + u) % 4u] = grads.z;
  dz_step[base + (3u * H + u) / 4u][(3u * H + u) % 4u] = grads.w;
  if (live) {
    dz[a + u] = grads.x;
    dz[a + H + u] = grads.y;
    dz[a + 2u * H + u] = grads.z;
    dz[a + 3u * H + u] = grads.w;
  }
}

// The four lanes' partial sums of W_hh[u, :] · dz added in column order, as the
// twin adds them (it keeps four running sums too: see src/cpu/lstm.ts).
fn lane_sum(v: vec4f) -> f32 {
  return ((v.x + v.y) + v.z) + v.w;
}

// m[q] += dz · w[q] lane by lane: four units' running sums, kept apart until lane_sum.
fn acc_units(m: mat4x4f, dzv: vec4f, w: mat4x4f) -> mat4x4f {
  return mat4x4f(m[0] + dzv * w[0], m[1] + dzv * w[1], m[2] + dzv * w[2], m[3] + dzv * w[3]);
}

// dh of units u0 .. u0 + 3 of sequence slot s, those below H.
fn store_dh(s: u32, u0: u32, m: mat4x4f) {
  dh_rec[s * H + u0] = lane_sum(m[0]);
  if (u0 + 1u < H) { dh_rec[s * H + u0 + 1u] = lane_sum(m[1]); }
  if (u0 + 2u < H) { dh_rec[s * H + u0 + 2u] = lane_sum(m[2]); }
  if (u0 + 3u < H) { dh_rec[s * H + u0 + 3u] = lane_sum(m[3]); }
}

// The grid of forward, in reverse step order; an invocation per four units.
@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let d = wid.y;
  let g = wid.x % params.groups;
  let b0 = (wid.x / params.groups) * S;
  let last = params.batch - 1u;
  let I = params.input;
  let w_base = weight_base(g, d);
  for (var e = lid.x; e < S * H; e += WG) {
    dh_rec[e] = 0.0;
    dc_next[e] = 0.0;
  }
  workgroupBarrier();
  for (var kk = params.length; kk > 0u; kk--) {
    let k = kk - 1u;
    let cur = (k % 2u) * S;
    // The same four units as below: dh_rec needs no barrier between the two.
    for (var u0 = lid.x * 4u; u0 < H; u0 += 4u * WG) {
    for (var u = u0; u < min(u0 + 4u, H); u++) {
      backward_cell(0u, u, min(b0, last), true, g, d, k, cur);
#if SEQ2
      backward_cell(1u, u, min(b0 + 1u, last), b0 + 1u <= last, g, d, k, cur);
#endif
#if SEQ4
      backward_cell(2u, u, min(b0 + 2u, last), b0 + 2u <= last, g, d, k, cur);
      backward_cell(3u, u, min(b0 + 3u, last), b0 + 3u <= last, g, d, k, cur);
#endif
#if SEQ8
      backward_cell(4u, u, min(b0 + 4u, last), b0 + 4u <= last, g, d, k, cur);
      backward_cell(5u, u, min(b0 + 5u, last), b0 + 5u <= last, g, d, k, cur);
      backward_cell(6u, u, min(b0 + 6u, last), b0 + 6u <= last, g, d, k, cur);
      backward_cell(7u, u, min(b0 + 7u, last), b0 + 7u <= last, g, d, k, cur);
#endif
    }
    }
    workgroupBarrier();
    // dh of the S sequences for four units at once: each vec4 of dz serves four
    // rows of W_hh, each row's vec4 S sequences.
    for (var u0 = lid.x * 4u; u0 < H; u0 += 4u * WG) {
      let w_row = w_base / 4u + (I + u0) * H;
      // Units past H (H not a multiple of 4) repeat row H - 1 and are not stored.
      let w_last = w_base / 4u + (I + H - 1u) * H;
      var m0 = mat4x4f();
#if SEQ2
      var m1 = mat4x4f();
#endif
#if SEQ4
      var m2 = mat4x4f();
      var m3 = mat4x4f();
#endif
#if SEQ8
      var m4 = mat4x4f();
      var m5 = mat4x4f();
      var m6 = mat4x4f();
      var m7 = mat4x4f();
#endif
      for (var j4 = 0u; j4 < H; j4++) {
        let w = mat4x4f(weight[min(w_row, w_last) + j4], weight[min(w_row + H, w_last) + j4], weight[min(w_row + 2u * H, w_last) + j4], weight[min(w_row + 3u * H, w_last) + j4]);
        m0 = acc_units(m0, dz_step[(cur + 0u) * H + j4], w);
#if SEQ2
        m1 = acc_units(m1, dz_step[(cur + 1u) * H + j4], w);
#endif
#if SEQ4
        m2 = acc_units(m2, dz_step[(cur + 2u) * H + j4], w);
        m3 = acc_units(m3, dz_step[(cur + 3u) * H + j4], w);
#endif
#if SEQ8
        m4 = acc_units(m4, dz_step[(cur + 4u) * H + j4], w);
        m5 = acc_units(m5, dz_step[(cur + 5u) * H + j4], w);
        m6 = acc_units(m6, dz_step[(cur + 6u) * H + j4], w);
        m7 = acc_units(m7, dz_step[(cur + 7u) * H + j4], w);
#endif
      }
      store_dh(0u, u0, m0);
#if SEQ2
      store_dh(1u, u0, m1);
#endif
#if SEQ4
      store_dh(2u, u0, m2);
      store_dh(3u, u0, m3);
#endif
#if SEQ8
      store_dh(4u, u0, m4);
      store_dh(5u, u0, m5);
      store_dh(6u, u0, m6);
      store_dh(7u, u0, m7);
#endif
    }
  }
}
#elif WEIGHT_GRAD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> hs: array<f32>;
@group(0) @binding(3) var<storage, read> dz: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dweight: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> dbias: array<vec4f>;

// Rows of the weight gradient an invocation sums, as two 4×4 blocks (lo: rows
// 0-3, hi: rows 4-7; a column per row), each dz load serving all of them.
const ROWS: u32 = 8u;

// Row rr of the (g, d) block [W_ih; W_hh], columns j4·4 .. j4·4 + 3; rows past the block are not stored.
fn store_weight_row(gd: u32, rr: u32, j4: u32, v: vec4f) {
  let I = params.input;
  if (rr < I + H) { dweight[(gd * (I + H) + rr) * H + j4] = v; }
}

// Row xr of [x; 1]: x's rows, then the bias.
fn store_x_row(gd: u32, xr: u32, j4: u32, v: vec4f) {
  let I = params.input;
  if (xr < I) { store_weight_row(gd, xr, j4, v); } else if (xr == I) { dbias[gd * H + j4] = v; }
}

// The four rows' terms of one step: column q is input q times the step's dz.
fn outer(grad: vec4f, v: vec4f) -> mat4x4f {
  return mat4x4f(grad * v.x, grad * v.y, grad * v.z, grad * v.w);
}

// dW = Σ over batch and steps of [x_t; h_prev; 1] ⊗ dz_t, per (group,
// direction): one invocation per 4 gate columns and ROWS rows, either of
// h_prev (W_hh) or of [x; 1] (W_ih and the bias), so no row asks which kind it
// is inside the loop. h_prev is 0 at a direction's first step, whose terms
// are skipped (they add nothing). Each element's sum runs over (b, t) in the
// twin's order.
@compute @workgroup_size(WG)
fn weight_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.total) { return; }
  let I = params.input;
  let T = params.length;
  let G = params.groups;
  let h_blocks = (H + ROWS - 1u) / ROWS;
  let blocks = h_blocks + (I + ROWS) / ROWS;
  let j4 = e % H;
  let blk = (e / H) % blocks;
  let gd = e / (H * blocks);
  let d = gd % 2u;
  let g = gd / 2u;
  var lo = mat4x4f();
  var hi = mat4x4f();
  // This block's first row, among h's rows or among [x; 1]'s, and its rows'
  // indices clamped to what can be read (rows past the end are never stored).
  let h_block = blk < h_blocks;
  let first = select((blk - h_blocks) * ROWS, blk * ROWS, h_block);
  let rows_lo = first + vec4u(0u, 1u, 2u, 3u);
  let rows_hi = rows_lo + 4u;
  if (h_block) {
    let hr_lo = min(rows_lo, vec4u(H - 1u));
    let hr_hi = min(rows_hi, vec4u(H - 1u));
    // The steps that have a previous one in direction d, and where it lies (rows r ± G).
    let t_lo = select(0u, 1u, d == 0u);
    let t_hi = select(T - 1u, T, d == 0u);
    for (var b = 0u; b < params.batch; b++) {
      for (var t = t_lo; t < t_hi; t++) {
        let r = row_of(b, t, g);
        let hb = select(r + G, r - G, d == 0u) * 2u * H + d * H;
        let grad = dz[(r * 2u + d) * H + j4];
        lo += outer(grad, vec4f(hs[hb + hr_lo.x], hs[hb + hr_lo.y], hs[hb + hr_lo.z], hs[hb + hr_lo.w]));
        hi += outer(grad, vec4f(hs[hb + hr_hi.x], hs[hb + hr_hi.y], hs[hb + hr_hi.z], hs[hb + hr_hi.w]));
      }
    }
  } else {
    let xr_lo = min(rows_lo, vec4u(I - 1u));
    let xr_hi = min(rows_hi, vec4u(I - 1u));
    let bias_lo = rows_lo == vec4u(I);
    let bias_hi = rows_hi == vec4u(I);
    for (var b = 0u; b < params.batch; b++) {
      for (var t = 0u; t < T; t++) {
        let r = row_of(b, t, g);
        let xb = r * I;
        let grad = dz[(r * 2u + d) * H + j4];
        lo += outer(grad, select(vec4f(x[xb + xr_lo.x], x[xb + xr_lo.y], x[xb + xr_lo.z], x[xb + xr_lo.w]), vec4f(1.0), bias_lo));
        hi += outer(grad, select(vec4f(x[xb + xr_hi.x], x[xb + xr_hi.y], x[xb + xr_hi.z], x[xb + xr_hi.w]), vec4f(1.0), bias_hi));
      }
    }
  }
  for (var q = 0u; q < 4u; q++) {
    if (h_block) {
      store_weight_row(gd, I + rows_lo[q], j4, lo[q]);
      store_weight_row(gd, I + rows_hi[q], j4, hi[q]);
    } else {
      store_x_row(gd, rows_lo[q], j4, lo[q]);
      store_x_row(gd, rows_hi[q], j4, hi[q]);
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
