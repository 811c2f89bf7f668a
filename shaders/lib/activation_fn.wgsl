// Shared by every kernel with an activation (the activation family itself and
// the fused epilogues of matmul and conv1d). `kind` follows ACTIVATION_CODES
// in src/cpu/activation.ts; the CPU twins there read line for line like this.

const ACT_NONE: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_LEAKY_RELU: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_SIGMOID: u32 = 4u;
const ACT_SOFTPLUS: u32 = 5u;

// log(1 + u) without losing u when it is tiny (Goldberg's trick): WGSL has no log1p.
fn log1p_f32(u: f32) -> f32 {
  let w = 1.0 + u;
  if (w == 1.0) { return u; }
  return log(w) * (u / (w - 1.0));
}

// exp(u) - 1 without cancellation near 0 (Kahan's trick): WGSL has no expm1.
fn expm1_f32(u: f32) -> f32 {
  let e = exp(u);
  if (e == 1.0) { return u; }
  let em1 = e - 1.0;
  if (em1 == -1.0) { return -1.0; }
  return em1 * (u / log(e));
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
