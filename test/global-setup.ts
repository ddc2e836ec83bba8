import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { chooseBrowser } from './support/browser-path.js';
import { COMPILED_ROOT, ROOT } from './support/compiled.js';

// Once per `vitest run`: a copy of the sources with each .ts compiled to .js beside it, for the
// processes tests start (test/support/compiled.ts says why). A copy, not only the .js: code
// that finds files beside itself (.sql, schemas, the Lambda entries the CDK bundles) finds them,
// and code that finds the project root beside them (cdk.json, the lock file, node_modules) too.

const ROOT_FILES = ['cdk.json', 'package.json', 'package-lock.json', 'tsconfig.json'];
// The source folders are tsconfig.json's, less the tests, benchmarks and the tsx launcher.
const NOT_RUN_BY_TESTS = new Set(['test', 'bench', 'bin']);
const SOURCES = (
  JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }
).include.filter((entry) => !NOT_RUN_BY_TESTS.has(entry) && statSync(join(ROOT, entry)).isDirectory());

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

export default async function setup(project: TestProject): Promise<() => void> {
  // A folder per run: two runs in one checkout do not build over each other's copy.
  mkdirSync(COMPILED_ROOT, { recursive: true });
  const COMPILED_DIR = mkdtempSync(join(COMPILED_ROOT, 'run-'));
  for (const dir of SOURCES) cpSync(join(ROOT, dir), join(COMPILED_DIR, dir), { recursive: true });
  for (const file of ROOT_FILES) cpSync(join(ROOT, file), join(COMPILED_DIR, file));
  symlinkSync(join(ROOT, 'node_modules'), join(COMPILED_DIR, 'node_modules'), 'dir');
  const entryPoints = SOURCES.flatMap((d) => tsFiles(join(ROOT, d)));
  await build({
    entryPoints,
    outdir: COMPILED_DIR,
    outbase: ROOT,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  project.provide('compiledDir', COMPILED_DIR);
  // The browser tests' chromium, chosen (and on a bare machine unpacked) once, before any worker
  // asks; a choice that fails fails the browser tests with its reason, not the run.
  try {
    const browser = chooseBrowser();
    process.stderr.write(`browser tests: ${browser.source} chromium ${browser.path}\n`);
  } catch (error) {
    process.stderr.write(`browser tests: ${(error as Error).message}\n`);
  }
  return () => rmSync(COMPILED_DIR, { recursive: true, force: true });
}
