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
    // Node 20 is supported here; the SDK's notice about its future Node 22 floor is noise in test logs.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
