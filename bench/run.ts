// `npm run bench [name...]`: runs each bench/*.bench.ts in its own process (so peak RSS and
// timings of one do not leak into another), in file order. Each bench prints its figures and
// ratios on stdout and writes them with `report()` to .bench/<name>.json.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
if (files.length === 0) {
  console.error(
    `no benchmark matches ${wanted.join(' ')}; have: ${readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .join(', ')}`,
  );
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, file)], {
    stdio: 'inherit',
    // On Node 20 (older than package.json's engines) the SDK's notice about its Node 22 floor is noise.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
