// Deterministic sums (a fixed tree per workgroup, no atomics) and fill.
// Twin: src/cpu/reduce.ts. One section per entry point:
//   SUM_ROWS  sum_rows: dst[chunk, col] = Σ over the chunk's rows of src[row, col]
//   SUM_ALL   sum_all:  dst[group] = Σ over the group's chunk of src (of src², SQUARES: a squared norm)
//   else      fill:     out[i] = value
// A sum too long for one pass runs twice: first into a scratch tensor of
// partials (FINAL off), then over those partials (sum_rows: FROM_PARTIALS,
// sum_all: SRC_READ_WRITE, as scratch is bound read_write). FINAL marks the pass that
// writes the caller's output; ACCUMULATE makes that write add to it.

#if SUM_ROWS
struct Params {
  rows: u32,
  cols: u32,
  // Rows per workgroup along y; the last chunk may be shorter.
  chunk_rows: u32,
}

// A workgroup covers TC neighbouring columns with TR lanes down the rows
// (TC * TR = 256, TR a power of two): loads are contiguous across TC.
override TC: u32 = 64u;
override TR: u32 = 4u;

@group(0) @binding(0) var<uniform> params: Params;
#if FROM_PARTIALS
@group(0) @binding(1) var<storage, read_write> src: array<f32>;
#else
@group(0) @binding(1) var<storage, read> src: array<f32>;
#endif
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

var<workgroup> lanes: array<f32, TC * TR>;

// workgroup_sum (lib/workgroup_reduce) folds the whole workgroup into one
// value; here each column folds only its own TR lanes, with the same fixed
// halving tree. Returns the column's total in lane 0.
fn column_tree_sum(col_lane: u32, row_lane: u32, value: f32) -> f32 {
  lanes[row_lane * TC + col_lane] = value;
  workgroupBarrier();
  var stride = TR / 2u;
  while (stride > 0u) {
    if (row_lane < stride) {
      lanes[row_lane * TC + col_lane] = lanes[row_lane * TC + col_lane] + lanes[(row_lane + stride) * TC + col_lane];
    }
    workgroupBarrier();
    stride = stride / 2u;
  }
  return lanes[col_lane];
}

@compute @workgroup_size(TC, TR)
fn sum_rows(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let col = wid.x * TC + lid.x;
  let chunk = wid.y;
  let first = chunk * params.chunk_rows;
  let end = min(params.rows, first + params.chunk_rows);
  var acc = 0.0;
  if (col < params.cols) {
    for (var r = first + lid.y; r < end; r += TR) {
      acc += src[r * params.cols + col];
    }
  }
  let total = column_tree_sum(lid.x, lid.y, acc);
  if (lid.y == 0u && col < params.cols) {
    let j = chunk * params.cols + col;
#if ACCUMULATE
    dst[j] = dst[j] + total;
#else
    dst[j] = total;
#endif
  }
}

#elif SUM_ALL
struct Params {
  n: u32,
  // Elements per workgroup; the last chunk may be shorter.
  chunk: u32,
  // Applied by the FINAL pass only (1/B turns a sum into a mean).
  scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
// src is bound read_write where the kernel also writes it: the partials
// scratch, or a gradient that clip_grad_norm then scales in place.
#if SRC_READ_WRITE
@group(0) @binding(1) var<storage, read_write> src: array<f32>;
#else
@group(0) @binding(1) var<storage, read> src: array<f32>;
#endif
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

var<workgroup> reduce_scratch: array<f32, WG>;
#include "lib/workgroup_reduce"

@compute @workgroup_size(WG)
fn sum_all(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let first = wid.x * params.chunk;
  let end = min(params.n, first + params.chunk);
  var acc = 0.0;
  for (var i = first + lid.x; i < end; i += WG) {
#if SQUARES
    let v = src[i];
    acc += v * v;
#else
    acc += src[i];
#endif
  }
  let total = workgroup_sum(lid.x, acc);
  if (lid.x == 0u) {
#if FINAL
#if ACCUMULATE
    dst[0] = dst[0] + params.scale * total;
#else
    dst[0] = params.scale * total;
#endif
#else
    dst[wid.x] = total;
#endif
  }
}

#else
override WG: u32 = 256u;

#if FILL_U32
struct Params { n: u32, value: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
#else
struct Params { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
#endif

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  out[i] = params.value;
}
#endif
