import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../compaction/manifest.js';
import { CuratedTable } from '../../iceberg/table.js';
import { duckdbArchitecture, ROOT } from '../../infra/lambda-common.js';
import { TRANSFORM_METRIC_NAMES } from '../../infra/monitoring.js';
import { S3Store } from '../../lake/s3-store.js';
import { createTables, startDynalite } from '../../local/dynamodb.js';
import { TRANSFORM_METRICS, transformServiceName } from '../../transform/metric-names.js';
import { DEFAULT_TABLE_NAMES, TABLES } from '../../transform/tables.js';
import { writeStagingDay } from '../compaction-staging.js';
import { tableHead } from '../support/lake-read.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';
import { batch, lesson, outputs, record, T0 } from '../transform-fixtures.js';

// The real `npx cdk synth` (cdk.json, infra/app.ts, cdk-nag, CloudFormation validation, esbuild
// bundling without Docker), offline; then each Lambda bundle runs from the cloud assembly,
// outside the repository (so nothing resolves from the repo's node_modules), against s3rver
// and dynalite through the real SDK clients.

const run = promisify(execFile);

/** One Embedded Metric Format log line (the fields the stack relies on). */
interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  service?: string;
}

// No AWS account, no network: the CLI must not look for credentials on the instance metadata
// endpoint, send telemetry or fetch notices.
const OFFLINE_ENV = {
  ...process.env,
  AWS_EC2_METADATA_DISABLED: 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

let outdir: string;
let synth: { stdout: string; stderr: string };
let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** The asset folder of the function named `name` in the cloud assembly. */
function assetOf(name: string): string {
  const fn = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === name,
  );
  const key = (fn?.Properties.Code as { S3Key: string } | undefined)?.S3Key;
  if (!key) throw new Error(`no function ${name} in the template`);
  return join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

/** Imports a bundle's index.mjs in a fresh Node process and calls its handler with `event`. */
async function invoke(asset: string, event: unknown, env: Record<string, string>) {
  const script =
    'const { handler } = await import(process.argv[1]);' +
    'const result = await handler(JSON.parse(process.argv[2]));' +
    'process.stdout.write("\\nRESULT " + JSON.stringify(result) + "\\n");';
  const { stdout } = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script,
      pathToFileURL(join(asset, 'index.mjs')).href,
      JSON.stringify(event),
    ],
    { cwd: asset, env: { ...OFFLINE_ENV, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result from ${asset}: ${stdout}`);
  return { result: JSON.parse(line.slice('RESULT '.length)) as unknown, stdout };
}

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'firelake-cdk-'));
  synth = await run(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', '-o', outdir], {
    cwd: ROOT,
    env: OFFLINE_ENV,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  template = JSON.parse(readFileSync(join(outdir, 'Firelake.template.json'), 'utf8'));
}, 320_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('npx cdk synth', () => {
  it('synthesizes offline with the cdk-nag checks and no unacknowledged finding', () => {
    expect(synth.stderr).not.toMatch(/\bERROR\b/);
    expect(Object.keys(template.Resources).length).toBeGreaterThan(50);
  });

  it("copies DuckDB's native binding for the compaction function's architecture into its asset", () => {
    const asset = assetOf('firelake-compaction');
    const { binding } = duckdbArchitecture();
    for (const path of [
      'index.mjs',
      'node_modules/@duckdb/node-api/package.json',
      'node_modules/@duckdb/node-bindings/duckdb.js',
      `node_modules/${binding}/duckdb.node`,
      'node_modules/detect-libc/package.json',
    ]) {
      expect(existsSync(join(asset, path)), path).toBe(true);
    }
    // The transform is one self-contained file: no node_modules to ship.
    expect(existsSync(join(assetOf('firelake-transform'), 'node_modules'))).toBe(false);
  });
});

describe('the bundled Lambdas', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3rver('firelake-bundle');
  });
  afterAll(async () => {
    await s3?.close();
  });

  // s3rver checks signatures against its own fixed key pair.
  const s3Env = () => ({
    LAKE_BUCKET: s3.bucket,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });

  it('compaction compacts a staging day in S3 into Parquet and a manifest', async () => {
    const store = new S3Store(s3.client, s3.bucket, '');
    const day = '2026-11-20';
    const written = await writeStagingDay(store, {
      day,
      hours: [0, 13],
      minutes: [0, 30],
      eventsPerObject: 25,
      duplicateShare: 0.2,
      seed: 7,
    });
    const { result } = await invoke(
      assetOf('firelake-compaction'),
      { date: day },
      {
        ...s3Env(),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
        COMPACTION_WORK_DIR: mkdtempSync(join(tmpdir(), 'fl-')),
      },
    );
    expect(result).toMatchObject({
      day,
      status: 'published',
      objects: written.keys.length,
      rows_read: written.lines,
      rows: written.unique,
      duplicates_dropped: written.duplicates,
    });
    expect((await tableHead(store))?.snapshot).toBeDefined();
    expect((await readManifest(store, day))?.manifest.rows).toBe(written.unique);
    const parquet: string[] = [];
    for await (const o of store.list('curated/events/year=2026/month=11/day=20/')) parquet.push(o.key);
    expect(parquet.length).toBeGreaterThan(0);
    expect(parquet.every((k) => k.endsWith('.parquet'))).toBe(true);
  });

  it('the commit check reports a day missing from the table, then present, as an EMF metric', async () => {
    const store = new S3Store(s3.client, s3.bucket, '');
    const asset = assetOf('firelake-manifest-check');
    const missing = await invoke(asset, { scheduledTime: '2026-11-23T06:00:00Z' }, s3Env());
    expect(missing.result).toMatchObject({ day: '2026-11-22', present: false });
    expect(missing.stdout).toMatch(/"ManifestMissing":1\b/);
    await new CuratedTable(store).commit([
      { day: '2026-11-22', basedOn: undefined, runId: 'r1', record: {}, files: [] },
    ]);
    const present = await invoke(asset, { scheduledTime: '2026-11-23T06:00:00Z' }, s3Env());
    expect(present.result).toMatchObject({ day: '2026-11-22', present: true });
    expect(present.stdout).toMatch(/"ManifestMissing":0\b/);
  });

  it('the transform stages an event and quarantines its duplicate, with DynamoDB (dynalite)', async () => {
    const dynamo = await startDynalite();
    try {
      const client = new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      await createTables(client);
      const event = lesson('6f1c2a44-0d7b-4c41-9a8e-2f1d3c4b5a69', 'de', T0 - 60_000);
      const { result, stdout } = await invoke(
        assetOf('firelake-transform'),
        batch([record(event, T0), record(event, T0 + 1_000)]),
        {
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          POWERTOOLS_METRICS_NAMESPACE: 'FirelakeTest',
          // As the stack sets it for a prefix: the service of the logs and of the metrics.
          POWERTOOLS_SERVICE_NAME: transformServiceName('lake-test'),
          [TABLES.dedup.envVar]: DEFAULT_TABLE_NAMES.dedup,
          [TABLES.users.envVar]: DEFAULT_TABLE_NAMES.users,
          [TABLES.subscriptions.envVar]: DEFAULT_TABLE_NAMES.subscriptions,
        },
      );
      const out = outputs(result as Parameters<typeof outputs>[0]);
      expect(out.map((o) => o.result)).toEqual(['Ok', 'Ok']);
      expect(out.map((o) => o.dataset)).toEqual(['staging', 'quarantine']);
      expect(out[1]!.text).toContain('"reason":"duplicate"');
      // The dashboard and alarms read these EMF metrics: same namespace, dimension and names.
      const emf = stdout
        .split('\n')
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l) as EmfLine);
      const published = emf.flatMap((e) =>
        e._aws.CloudWatchMetrics.flatMap((m) =>
          m.Metrics.map((x) => ({
            namespace: m.Namespace,
            dimensions: m.Dimensions.flat(),
            service: e.service,
            name: x.Name,
          })),
        ),
      );
      for (const name of [...TRANSFORM_METRIC_NAMES, TRANSFORM_METRICS.quarantinedByReason]) {
        expect(
          published.find((p) => p.name === name),
          name,
        ).toMatchObject({
          namespace: 'FirelakeTest',
          service: 'lake-test-transform',
        });
      }
      expect(published.find((p) => p.name === TRANSFORM_METRICS.quarantinedByReason)?.dimensions).toEqual(
        expect.arrayContaining(['service', 'reason']),
      );
      client.destroy();
    } finally {
      await dynamo.close();
    }
  });
});
