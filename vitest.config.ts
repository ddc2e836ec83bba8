import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start their own dynalite, s3rver and HTTP servers on ephemeral ports; two workers
    // match the two cores of the CI machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
