import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ROOT } from '../infra/lambda-common.js';
import { FirelakeStack } from '../infra/stack.js';
import { report } from './report.js';

// The CDK app: how long a full synth takes (esbuild bundling of three functions, copying
// DuckDB's binding, CloudFormation validation), the cdk-nag pass, the size of each Lambda asset
// against Lambda's 250 MB unzipped limit, and the module-load time of each bundle in a fresh
// Node process (the code part of a cold start; Lambda adds its own init).

const LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024;

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const context = (
  JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;
const outdir = mkdtempSync(join(tmpdir(), 'firelake-bench-cdk-'));
try {
  let t = performance.now();
  const app = new App({ outdir, context });
  const stack = new FirelakeStack(app, 'Firelake', { env: { account: '123456789012', region: 'eu-west-1' } });
  const assembly = app.synth();
  const synthSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  const nag = new AwsSolutionsChecks().validateScope(stack);
  const nagSeconds = (performance.now() - t) / 1000;

  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<
      string,
      { Type: string; Properties: { FunctionName?: string; Code?: { S3Key?: string } } }
    >;
  };
  const figures: Record<string, number | string> = {
    synth_seconds: synthSeconds,
    nag_seconds: nagSeconds,
    nag_unacknowledged: nag.violations.length,
    resources: Object.keys(template.Resources).length,
  };
  const env = {
    ...process.env,
    LAKE_BUCKET: 'bench',
    DEDUP_TABLE: 'd',
    USERS_TABLE: 'u',
    SUBSCRIPTIONS_TABLE: 's',
    AWS_REGION: 'eu-west-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const fn of Object.values(template.Resources)) {
    if (fn.Type !== 'AWS::Lambda::Function' || !fn.Properties.FunctionName || !fn.Properties.Code?.S3Key)
      continue;
    const name = fn.Properties.FunctionName.replace(/^firelake-/, '');
    const asset = join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    const bytes = dirBytes(asset);
    figures[`${name}_asset_mib`] = bytes / 1024 / 1024;
    figures[`${name}_asset_vs_lambda_limit`] = bytes / LAMBDA_UNZIPPED_LIMIT;
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const run = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          'const t = performance.now(); await import(process.argv[1]); console.log(performance.now() - t);',
          pathToFileURL(join(asset, 'index.mjs')).href,
        ],
        { cwd: asset, env, encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`loading ${name} failed: ${run.stderr}`);
      loads.push(Number(run.stdout.trim().split('\n').at(-1)));
    }
    figures[`${name}_module_load_ms_median_of_5`] = median(loads);
  }
  report('infra', figures);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
