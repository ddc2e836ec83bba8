import { existsSync } from 'node:fs';
import { join } from 'node:path';

// The suite starts the CLI, serve and their children as real processes about a hundred times.
// test/global-setup.ts compiles the sources ahead, once per run, with esbuild file by file, as
// tsx does on the fly: the same modules, minus tsx's loader in every process (0.9 -> 0.4 CPU-s
// to start `firelake quality --help`). Tests of how users start it (bin/firelake.js, npx,
// npm start) still go through tsx.

const ROOT = join(import.meta.dirname, '..', '..');
/** The compiled copy of the repository's sources (gitignored). */
export const COMPILED_DIR = join(ROOT, '.test-build');

/** node's arguments that run the CLI: compiled when the global setup built it, else through tsx. */
export function cliArgv(): string[] {
  const compiled = join(COMPILED_DIR, 'cli', 'index.js');
  return existsSync(compiled) ? [compiled] : ['--import', 'tsx', join(ROOT, 'cli', 'index.ts')];
}
