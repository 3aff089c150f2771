import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Measures the gateway at 500 updates/s for a minute: on CI's two cores it
 * needs the machine to itself, so it runs alone, after every other file.
 */
const LOAD_TESTS = ['test/faults/gateway-load.test.ts'];

export default defineConfig({
  test: {
    // Temporal's native core does not run in worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: suites that start servers run two at a time.
    maxWorkers: 2,
    fileParallelism: true,
    // The report only: what a test logged is shown when it fails (test/setup/console-output.ts).
    silent: 'passed-only',
    setupFiles: ['test/setup/console-output.ts'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...LOAD_TESTS] } },
      // A later group: it starts once every file of `main` has finished.
      { extends: true, test: { name: 'load', include: LOAD_TESTS, sequence: { groupOrder: 1 } } },
    ],
  },
});
