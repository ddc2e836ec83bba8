import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

// The suite starts the CLI, serve and their children as real processes about a hundred times.
// test/global-setup.ts compiles the sources ahead, once per run, with esbuild file by file, as
// tsx does on the fly: the same modules, minus tsx's loader in every process (0.9 -> 0.4 CPU-s
// to start `firelake quality --help`). Tests of how users start it (bin/firelake.js, npx,
// npm start) still go through tsx.

/** The repository. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** Where each run's compiled copy of the repository's sources goes (gitignored). */
export const COMPILED_ROOT = join(ROOT, '.test-build');

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's compiled copy, from test/global-setup.ts. */
    compiledDir: string;
  }
}

/** node's arguments that run the CLI: compiled by the global setup, or through tsx outside vitest. */
export function cliArgv(): string[] {
  // The chaos bench (bench/chaos.bench.ts) starts serve with these helpers, without vitest.
  if (!process.env.VITEST) return ['--import', 'tsx', join(ROOT, 'cli', 'index.ts')];
  const compiled = join(inject('compiledDir'), 'cli', 'index.js');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: test/global-setup.ts builds it`);
  return [compiled];
}
