import { defineConfig } from 'vitest/config';
import GroupTimes from './test/group-times.js';
import LongestFirst from './test/sequencer.js';

// Three groups, by folder, all run by `npm test`: unit (in-process, no engine), integration (real
// engines: dynalite, DuckDB, s3rver, the CLI as a process) and e2e (the whole pipeline, real
// processes with real signals, a real browser, third-party AWS clients). One group alone:
// `npx vitest run test/unit`. One vitest project, not three: vitest runs projects one after
// the other, each in workers of its own, and one queue of every file, longest first, keeps both
// cores busy to the end (docs/testing.md: 184 -> 157 s).

export default defineConfig({
  test: {
    // The sources compiled ahead for the processes tests start (test/support/compiled.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start their own dynalite, s3rver and HTTP servers on ephemeral ports. Three workers on
    // the CI machine's two cores: the e2e tests wait on other processes much of the time, and the
    // third runs meanwhile (docs/testing.md: 216 -> 169-182 s with shared workers).
    pool: 'forks',
    maxWorkers: 3,
    // Files share a worker's process and its loaded modules (the SDK, DuckDB, the CDK take seconds
    // to load in each): 58 processes fewer. Each file's changes to process.env are undone after it.
    isolate: false,
    setupFiles: ['test/setup-env.ts'],
    // On Node 20 (older than package.json's engines, as on the machine the suite runs on) the
    // SDK's notice about its Node 22 floor is noise in test logs.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    include: ['test/{unit,integration,e2e}/**/*.test.ts'],
    // Longest first, on a clean clone too (test/sequencer.ts).
    sequence: { sequencer: LongestFirst },
    // After the run, each group's time and CPU beside its budget (docs/testing.md).
    reporters: ['default', new GroupTimes()],
  },
});
