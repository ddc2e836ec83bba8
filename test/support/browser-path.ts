import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Which chromium the browser tests and the report bench drive (puppeteer-core downloads none):
//   FIRELAKE_CHROMIUM=<path>  that binary;
//   FIRELAKE_BROWSER=npm      the one shipped inside the npm package @sparticuz/chromium, even
//                             where Debian's is installed (how the bare-machine path is tested);
//   otherwise Debian's /usr/bin/chromium when it is there, else the npm package's.
// The npm package holds a brotli-compressed headless-shell build that it unpacks into
// os.tmpdir(); it is unpacked once per installed version into node_modules/.cache, by a child
// process whose TMPDIR is a fresh folder renamed into place, so test workers racing to unpack it
// never launch a half-written binary.

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const NPM_PACKAGE = '@sparticuz/chromium';

export interface BrowserChoice {
  path: string;
  source: 'FIRELAKE_CHROMIUM' | 'debian' | 'npm';
}

export function chooseBrowser(env: NodeJS.ProcessEnv = process.env): BrowserChoice {
  if (env.FIRELAKE_CHROMIUM) {
    if (!existsSync(env.FIRELAKE_CHROMIUM))
      throw new Error(`FIRELAKE_CHROMIUM=${env.FIRELAKE_CHROMIUM}: no such file`);
    return { path: env.FIRELAKE_CHROMIUM, source: 'FIRELAKE_CHROMIUM' };
  }
  const forced = env.FIRELAKE_BROWSER;
  if (forced !== undefined && forced !== 'npm' && forced !== 'debian') {
    throw new Error(`FIRELAKE_BROWSER=${forced}: expected npm or debian`);
  }
  if (forced !== 'npm' && existsSync(DEBIAN_CHROMIUM)) return { path: DEBIAN_CHROMIUM, source: 'debian' };
  if (forced === 'debian') throw new Error(`FIRELAKE_BROWSER=debian: no browser at ${DEBIAN_CHROMIUM}`);
  return { path: npmChromium(), source: 'npm' };
}

/** The npm package's chromium, unpacked once per version; returns the binary's path. */
export function npmChromium(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve(NPM_PACKAGE);
  const pkgDir = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const cacheRoot = join(dirname(dirname(pkgDir)), '.cache', 'firelake-chromium');
  const dir = join(cacheRoot, version);
  const binary = join(dir, 'chromium');
  if (existsSync(binary)) return binary;
  mkdirSync(cacheRoot, { recursive: true });
  const scratch = mkdtempSync(join(cacheRoot, `${version}-`));
  try {
    // Without the Lambda markers the package sets no LD_LIBRARY_PATH: Debian's libraries serve.
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: scratch };
    for (const k of ['AWS_EXECUTION_ENV', 'AWS_LAMBDA_JS_RUNTIME', 'CODEBUILD_BUILD_IMAGE', 'VERCEL'])
      delete env[k];
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const c = await import(${JSON.stringify(pathToFileURL(entry).href)}); await c.default.executablePath();`,
      ],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    try {
      renameSync(scratch, dir);
    } catch (error) {
      // Another process unpacked it first: use theirs.
      if (!existsSync(binary)) throw error;
      rmSync(scratch, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw new Error(`could not unpack ${NPM_PACKAGE}'s chromium: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return binary;
}
