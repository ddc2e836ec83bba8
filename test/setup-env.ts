import { afterAll, inject } from 'vitest';
import { startChildrenFromCompiledCopy } from '../lake/entry.js';
import { cpuSeconds } from './cpu.js';
import { ROOT } from './support/compiled.js';

declare module 'vitest' {
  interface TaskMeta {
    /** What the file took, for the time by group (test/group-times.ts). */
    cost?: { startMs: number; endMs: number; cpuSeconds: number };
  }
}

// What each file costs, import included: this runs before the file is imported, and the worker
// runs one file at a time. CPU counts the worker and the processes the file started and reaped.
const startMs = Date.now();
const startCpu = cpuSeconds();

// Test files share worker processes (isolate: false in vitest.config.ts): what one file sets in
// process.env (an endpoint, credentials) must not reach the next file run in the same worker.
const before = { ...process.env };
// biome-ignore lint/correctness/noEmptyPattern: vitest parses a hook's first parameter as fixtures, and wants a pattern.
afterAll(({}, file) => {
  file.meta.cost = { startMs, endMs: Date.now(), cpuSeconds: cpuSeconds() - startCpu };
  for (const key of Object.keys(process.env)) if (!(key in before)) delete process.env[key];
  Object.assign(process.env, before);
});

// Code the tests run in-process starts dynalite's process and compaction workers from this run's
// compiled copy (test/global-setup.ts), as the processes the tests start already do.
startChildrenFromCompiledCopy(ROOT, inject('compiledDir'));
