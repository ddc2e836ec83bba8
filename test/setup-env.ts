import { afterAll, inject } from 'vitest';
import { startChildrenFromCompiledCopy } from '../lake/entry.js';
import { ROOT } from './support/compiled.js';

// Test files share worker processes (isolate: false in vitest.config.ts): what one file sets in
// process.env (an endpoint, credentials) must not reach the next file run in the same worker.
const before = { ...process.env };
afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in before)) delete process.env[key];
  Object.assign(process.env, before);
});

// Code the tests run in-process starts dynalite's process and compaction workers from this run's
// compiled copy (test/global-setup.ts), as the processes the tests start already do.
startChildrenFromCompiledCopy(ROOT, inject('compiledDir'));
