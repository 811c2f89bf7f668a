import { defineConfig } from 'vitest/config';

// GPU tests share one Dawn instance per worker; on a 2-core CI machine more
// workers than cores only makes SwiftShader contend with itself.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    // Tests choose GEMM variants by the deterministic heuristic unless they
    // force one (autotune.test.ts tunes with a cache of its own): timing every
    // variant in every spawned run would only slow the suite.
    env: { SIMPLECHROME_GEMM: 'heuristic' },
    hookTimeout: 120_000,
  },
});
