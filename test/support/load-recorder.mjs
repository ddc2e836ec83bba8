import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// `node --import <this file> ...` records the npm packages the process loads, one name a line,
// in the file $FIRELAKE_LOAD_RECORD (test/integration/cli-load.test.ts reads it). Plain
// JavaScript: it runs in processes of the compiled CLI, which have no TypeScript loader.
// ES modules are seen as they resolve (a hook on the loader's thread, writing before the module
// loads); CommonJS ones from require's cache when the process exits.

const RECORD = process.env.FIRELAKE_LOAD_RECORD;
const PACKAGE = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

function record(path) {
  const name = PACKAGE.exec(path)?.[1];
  if (RECORD && name) appendFileSync(RECORD, `${name}\n`);
}

if (isMainThread) {
  register(import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    for (const path of Object.keys(cache)) record(path);
  });
}

/** The loader hook: the package of every module resolved. */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  record(resolved.url);
  return resolved;
}
