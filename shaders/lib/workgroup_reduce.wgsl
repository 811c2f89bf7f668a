// Tree sum across one workgroup. The including shader declares
//   override WG: u32;            (a power of two, the workgroup size)
//   var<workgroup> reduce_scratch: array<f32, WG>;
// and calls workgroup_sum from uniform control flow (every invocation of the
// workgroup, barriers inside). The fixed tree makes sums deterministic: the
// same inputs give the same bits on every run of the same adapter.
fn workgroup_sum(local: u32, value: f32) -> f32 {
  reduce_scratch[local] = value;
  workgroupBarrier();
  var stride = WG / 2u;
  while (stride > 0u) {
    if (local < stride) {
      reduce_scratch[local] = reduce_scratch[local] + reduce_scratch[local + stride];
    }
    workgroupBarrier();
    stride = stride / 2u;
  }
  let total = reduce_scratch[0];
  // Keep the next call from overwriting slot 0 before everyone has read it.
  workgroupBarrier();
  return total;
}
