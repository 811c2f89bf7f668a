import { defineConfig } from 'vitest/config';

// GPU tests share one Dawn instance per worker; on a 2-core CI machine more
// workers than cores only makes SwiftShader contend with itself.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
