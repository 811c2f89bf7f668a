// dest[cursor·batch + b, :] = src[b, :] for the rows that fall inside dest.
// Twin: src/cpu/storeRows.ts. The prediction pass runs many batches in one
// submit; each batch lands at its own rows so the host reads once at the end.
struct Params { batch: u32, row_size: u32, capacity: u32 }

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> cursor: array<u32>;
@group(0) @binding(3) var<storage, read_write> dest: array<f32>;

@compute @workgroup_size(WG)
fn store_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.batch * params.row_size) { return; }
  let b = i / params.row_size;
  let j = i % params.row_size;
  let row = cursor[0] * params.batch + b;
  if (row >= params.capacity) { return; }
  dest[row * params.row_size + j] = src[i];
}
