// Minibatch gather: out[b, k] = source[order[(cursor * batch + b) mod index_length], k],
// and 0 where that row index is out of range (>= rows). Twin: src/cpu/gather.ts.
// The same entry serves per-row values (labels): row_size 1.
//
// Elements are moved as u32 whatever the tensor's dtype (f32 or u32): a copy
// through f32 registers could flush denormals or quiet a NaN, a bit copy
// cannot, so GPU and CPU agree bit for bit.

struct Params {
  rows: u32,
  row_size: u32,
  batch: u32,
  index_length: u32,
  // batch * row_size: one invocation per output element.
  total: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<u32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> cursor: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

// Neighbouring invocations copy neighbouring elements of one row, so loads
// and stores are contiguous across the workgroup.
@compute @workgroup_size(WG)
fn gather_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.total) { return; }
  let k = i % params.row_size;
  let b = i / params.row_size;
  // Reduced first so the product stays below index_length * batch, which the
  // kernel factory keeps within u32: the cursor may run far past one epoch.
  let start = (cursor[0] % params.index_length) * params.batch;
  let position = (start + b) % params.index_length;
  let row = order[position];
  var value = 0u;
  if (row < params.rows) { value = source[row * params.row_size + k]; }
  out[i] = value;
}
