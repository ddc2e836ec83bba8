import { afterAll } from 'vitest';

// Test files share worker processes (isolate: false in vitest.config.ts): what one file sets in
// process.env (an endpoint, credentials) must not reach the next file run in the same worker.
const before = { ...process.env };
afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in before)) delete process.env[key];
  Object.assign(process.env, before);
});
