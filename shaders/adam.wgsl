// Adam / AdamW (PyTorch's formulas) over one flat parameter buffer.
// Twin: src/cpu/adam.ts. The step t comes from a u32 tensor, not the uniform
// block, so that many steps recorded into one submit each see their own t.

struct Hyper {
  n: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  // 1 - beta and ln(beta) are computed on the host in f64: in f32 on the
  // GPU, 1 - 0.999 keeps only four significant digits.
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  log_beta1: f32,
  log_beta2: f32,
  eps: f32,
  weight_decay: f32,
  // AdamW's 1 - lr·weight_decay.
  decay: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> hyper: Hyper;
// VEC4 (n a multiple of 4): one invocation updates four parameters with vec4
// loads, sharing the bias corrections, which cost more than the update itself.
#if VEC4
alias Lane = vec4f;
const LANES: u32 = 4u;
#else
alias Lane = f32;
const LANES: u32 = 1u;
#endif
@group(0) @binding(1) var<storage, read_write> params: array<Lane>;
@group(0) @binding(2) var<storage, read> grads: array<Lane>;
@group(0) @binding(3) var<storage, read_write> m: array<Lane>;
@group(0) @binding(4) var<storage, read_write> v: array<Lane>;
@group(0) @binding(5) var<storage, read> step: array<u32>;

// 1 - beta^t = -expm1(t·ln beta). Near t·ln beta = 0 (beta2 = 0.999 at small
// t) that difference is tiny and 1 - pow(beta, t) would cancel; the Taylor
// series keeps full precision there. expm1_f32 of lib/activation_fn is not
// used because it leans on log() near 1, where WGSL only promises an absolute
// error of 2^-21.
fn one_minus_pow(log_beta: f32, t: f32) -> f32 {
  let x = t * log_beta;
  if (x < -0.5) { return 1.0 - exp(x); }
  // expm1(x) = x (1 + x/2 (1 + x/3 (... (1 + x/9)))), |x| <= 0.5: error < 1e-9.
  var series = 1.0;
  for (var k = 9.0; k >= 2.0; k -= 1.0) {
    series = 1.0 + x / k * series;
  }
  return -x * series;
}

// 1 when the plan bumps the step counter after Adam (one counter dispatch for step and cursor).
override STEP_OFFSET: u32 = 0u;

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i * LANES >= hyper.n) { return; }
  let t = f32(step[0] + STEP_OFFSET);
  let bias_correction1 = one_minus_pow(hyper.log_beta1, t);
  let bias_correction2 = one_minus_pow(hyper.log_beta2, t);
  var p: Lane = params[i];
  var g: Lane = grads[i];
#if DECOUPLED
  p = p * hyper.decay;
#else
  g = g + hyper.weight_decay * p;
#endif
  let m_new = hyper.beta1 * m[i] + hyper.one_minus_beta1 * g;
  let v_new = hyper.beta2 * v[i] + hyper.one_minus_beta2 * g * g;
  m[i] = m_new;
  v[i] = v_new;
  let denom = sqrt(v_new) / sqrt(bias_correction2) + hyper.eps;
  params[i] = p - (hyper.lr / bias_correction1) * (m_new / denom);
}
