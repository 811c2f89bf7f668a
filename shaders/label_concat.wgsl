// M2's label-conditioned rows: each row of `input` followed by the one-hot
// [1 - y, y] of its label, and the backward that undoes it. Twin:
// src/cpu/labelConcat.ts. Rows of the output: `labeled` rows with their own
// labels (slot y), then `unlabeled` rows as y = 0, then the same rows as
// y = 1. TILED input holds labeled + unlabeled rows (the encoder features:
// the unlabeled ones are used twice); otherwise it already has one row per
// output row (the latent samples).
struct Params {
  labeled: u32,
  unlabeled: u32,
  width: u32,      // columns of input
  out_rows: u32,   // labeled + 2 * unlabeled
  in_rows: u32,    // labeled + unlabeled when TILED, else out_rows
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;

#if BACKWARD
@group(0) @binding(1) var<storage, read> d_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> d_in: array<f32>;

// d_in[s, k] = d_out[s, k], plus d_out[s + unlabeled, k] for an unlabeled row
// of a TILED input (it fed two output rows). The one-hot columns carry no
// gradient anywhere: the labels are data.
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.in_rows * params.width) { return; }
  let s = i / params.width;
  let k = i % params.width;
  let out_width = params.width + 2u;
  var g = d_out[s * out_width + k];
#if TILED
  if (s >= params.labeled) { g += d_out[(s + params.unlabeled) * out_width + k]; }
#endif
  d_in[i] = g;
}
#else
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

// The label of output row r as 0 or 1.
fn label_of(r: u32) -> f32 {
  if (r < params.labeled) { return y[r]; }
  if (r < params.labeled + params.unlabeled) { return 0.0; }
  return 1.0;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let out_width = params.width + 2u;
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.out_rows * out_width) { return; }
  let r = i / out_width;
  let k = i % out_width;
  if (k < params.width) {
    var s = r;
#if TILED
    if (r >= params.labeled + params.unlabeled) { s = r - params.unlabeled; }
#endif
    output[i] = input[s * params.width + k];
  } else {
    let label = label_of(r);
    output[i] = select(label, 1.0 - label, k == params.width);
  }
}
#endif
