// n / d for n < 2^24 and d ≥ 1 without an integer division. x86 has no vector
// integer divide, so SwiftShader runs a u32 `/` or `%` by a run-time value as
// one scalar divide per lane; conv1d's implicit-GEMM loads took several per
// element and ran 3-5x slower than a plain matmul of the same size for it.
// f32(n) · (1/d) is within one of n / d when n < 2^24 (each of the two
// roundings is relative 2^-24), so one correction each way makes it exact.
// The kernel factories check that every numerator stays below 2^24.
fn quotient(n: u32, d: u32) -> u32 {
  let q0 = u32(f32(n) * (1.0 / f32(d)));
  let q1 = select(q0, q0 - 1u, q0 * d > n);
  return select(q1, q1 + 1u, (q1 + 1u) * d <= n);
}
