import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native core does not run in worker threads.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: suites that start servers run two at a time.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
