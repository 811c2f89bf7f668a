// Shared by every kernel with an activation (the activation family itself and
// the fused epilogues of matmul and conv1d). `kind` follows ACTIVATION_CODES
// in src/cpu/activation.ts; the CPU twins there read line for line like this.

const ACT_NONE: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_LEAKY_RELU: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_SIGMOID: u32 = 4u;
const ACT_SOFTPLUS: u32 = 5u;

// log(1 + u) for u > -1. WGSL's log() only promises an absolute error of
// 2^-21 near 1, which ruins log(1 + u) for small u, so there the odd series
// log1p(u) = 2·atanh(t), t = u / (2 + u), |t| <= 1/3, is used instead.
fn log1p_f32(u: f32) -> f32 {
  if (u < -0.5 || u > 1.0) { return log(1.0 + u); }
  let t = u / (2.0 + u);
  let t2 = t * t;
  var series = 1.0 / 15.0;
  series = 1.0 / 13.0 + t2 * series;
  series = 1.0 / 11.0 + t2 * series;
  series = 1.0 / 9.0 + t2 * series;
  series = 1.0 / 7.0 + t2 * series;
  series = 1.0 / 5.0 + t2 * series;
  series = 1.0 / 3.0 + t2 * series;
  series = 1.0 + t2 * series;
  return 2.0 * t * series;
}

// exp(u) - 1 without cancellation near 0: a Taylor series for |u| <= 0.5
// (the next term is below 2^-36 relative), exp(u) - 1 elsewhere.
fn expm1_f32(u: f32) -> f32 {
  if (abs(u) > 0.5) { return exp(u) - 1.0; }
  var series = 1.0 / 39916800.0;
  series = 1.0 / 3628800.0 + u * series;
  series = 1.0 / 362880.0 + u * series;
  series = 1.0 / 40320.0 + u * series;
  series = 1.0 / 5040.0 + u * series;
  series = 1.0 / 720.0 + u * series;
  series = 1.0 / 120.0 + u * series;
  series = 1.0 / 24.0 + u * series;
  series = 1.0 / 6.0 + u * series;
  series = 0.5 + u * series;
  series = 1.0 + u * series;
  return u * series;
}

fn sigmoid_f32(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

// Stable for large |x|: max(x, 0) + log1p(exp(-|x|)).
fn softplus_f32(x: f32) -> f32 {
  return max(x, 0.0) + log1p_f32(exp(-abs(x)));
}

fn activate(x: f32, kind: u32, alpha: f32) -> f32 {
  switch kind {
    case ACT_RELU: { return max(x, 0.0); }
    case ACT_LEAKY_RELU: { return select(alpha * x, x, x > 0.0); }
    case ACT_TANH: { return tanh(x); }
    case ACT_SIGMOID: { return sigmoid_f32(x); }
    case ACT_SOFTPLUS: { return softplus_f32(x); }
    default: { return x; }
  }
}

// Derivative expressed through the activation's output y, which is what the
// forward pass keeps (a fused epilogue never stores its pre-activation).
fn activate_grad_from_output(y: f32, kind: u32, alpha: f32) -> f32 {
  switch kind {
    case ACT_RELU: { return select(0.0, 1.0, y > 0.0); }
    case ACT_LEAKY_RELU: { return select(alpha, 1.0, y > 0.0); }
    case ACT_TANH: { return 1.0 - y * y; }
    case ACT_SIGMOID: { return y * (1.0 - y); }
    // softplus'(x) = sigmoid(x) = 1 - exp(-y)
    case ACT_SOFTPLUS: { return -expm1_f32(-y); }
    default: { return 1.0; }
  }
}

fn activate_grad_from_output4(y: vec4f, kind: u32, alpha: f32) -> vec4f {
  return vec4f(
    activate_grad_from_output(y.x, kind, alpha),
    activate_grad_from_output(y.y, kind, alpha),
    activate_grad_from_output(y.z, kind, alpha),
    activate_grad_from_output(y.w, kind, alpha),
  );
}
