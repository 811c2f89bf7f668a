// Shared by elbo.wgsl and m2_loss.wgsl (the KL term of a log-variance head).
// exp(x) - 1 - x without cancellation: Taylor series below |x| = 0.5
// (truncation < 3e-9 relative), direct beyond.
fn expm1_minus_x(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * x * (1.0 / 2.0 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0
      + x * (1.0 / 5040.0 + x * (1.0 / 40320.0 + x * (1.0 / 362880.0))))))));
  }
  return exp(x) - 1.0 - x;
}
