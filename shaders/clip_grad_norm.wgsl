// Gradient-norm clipping as torch.nn.utils.clip_grad_norm_ does it, over one
// flat gradient buffer: coef = min(max_norm / (‖g‖₂ + eps), 1), g *= coef.
// Twin: src/cpu/clipGradNorm.ts. The squared norm is summed just before, by
// reduce.wgsl's sum_all with SQUARES (the fixed tree of lib/workgroup_reduce,
// so the same gradient gives the same bits), into sum_squares[0]; this pass
// reads it there, so the norm never leaves the GPU and many steps still go
// in one submit. Under the limit coef is exactly 1 and the gradient keeps its bits.

struct Params {
  n: u32,
  max_norm: f32,
  // torch's 1e-6, which keeps an all-zero gradient from dividing by zero.
  eps: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> grads: array<f32>;
// Scratch is bound read_write, though this pass only reads it.
@group(0) @binding(2) var<storage, read_write> sum_squares: array<f32>;

@compute @workgroup_size(WG)
fn clip_grad_norm(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let coef = min(params.max_norm / (sqrt(sum_squares[0]) + params.eps), 1.0);
  grads[i] = grads[i] * coef;
}
