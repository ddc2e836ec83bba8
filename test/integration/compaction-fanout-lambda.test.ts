import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanOutput } from '../../compaction/fanout-handler.js';
import { readManifest } from '../../compaction/manifest.js';
import { markPendingDays, pendingDays } from '../../compaction/pending.js';
import { runPrefix } from '../../compaction/plan.js';
import {
  duckdbArchitecture,
  esbuildAsDeployed,
  FUNCTION_NODE_OPTIONS,
  ROOT,
} from '../../infra/lambda-common.js';
import { S3Store } from '../../lake/s3-store.js';
import { listAll } from '../../lake/store.js';
import { writeStagingDay } from '../compaction-staging.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';

// The state machine's Lambdas as deployed: compaction/fanout-handler.ts bundled by esbuild with
// the CDK's options (infra/lambda-common.ts BUNDLING), DuckDB's packages and compaction/sql/
// beside the bundle as infra/compaction.ts duckdbBundling() lays them out, each invocation in
// its own node process with the function's NODE_OPTIONS, against s3rver. The steps are driven
// in the state machine's order: plan, every unit, commit.

const exec = promisify(execFile);
const MARK = '@@result@@';
let s3: LocalS3;
let dir: string;
let bundle: string;

beforeAll(async () => {
  s3 = await startS3rver();
  dir = mkdtempSync(join(tmpdir(), 'firelake-fanout-lambda-'));
  bundle = join(dir, 'asset');
  mkdirSync(join(bundle, 'node_modules', '@duckdb'), { recursive: true });
  const { binding } = duckdbArchitecture();
  await build({
    entryPoints: [join(ROOT, 'compaction', 'fanout-handler.ts')],
    outfile: join(bundle, 'index.mjs'),
    ...esbuildAsDeployed(),
    external: ['@duckdb/node-api', '@duckdb/node-bindings', binding],
    logLevel: 'warning',
  });
  // Linked, not copied (the asset copies them): the same files, resolved beside the bundle.
  for (const pkg of ['@duckdb/node-api', '@duckdb/node-bindings', binding])
    symlinkSync(join(ROOT, 'node_modules', pkg), join(bundle, 'node_modules', pkg));
  cpSync(join(ROOT, 'compaction', 'sql'), join(bundle, 'sql'), { recursive: true });
  // What the Lambda runtime does: import the module, call the named export with the event.
  writeFileSync(
    join(dir, 'invoke.mjs'),
    `const [, , file, name, event] = process.argv;
const handlers = await import(file);
try {
  const result = await handlers[name](JSON.parse(event));
  process.stdout.write('\\n${MARK}' + JSON.stringify(result));
} catch (error) {
  process.stdout.write('\\n${MARK}' + JSON.stringify({ errorType: error.name, errorMessage: error.message }));
  process.exitCode = 1;
}
`,
  );
}, 120_000);

afterAll(async () => {
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

async function invoke(name: 'plan' | 'unit' | 'commit', event: unknown, prefix: string): Promise<unknown> {
  const work = join(dir, 'tmp', name, String(Math.random()).slice(2));
  mkdirSync(work, { recursive: true });
  const { stdout } = await exec(
    process.execPath,
    [join(dir, 'invoke.mjs'), join(bundle, 'index.mjs'), name, JSON.stringify(event)],
    {
      env: {
        PATH: process.env.PATH,
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
        LAKE_BUCKET: s3.bucket,
        LAKE_PREFIX: prefix,
        COMPACTION_WORK_DIR: work,
        COMPACTION_MEMORY_LIMIT_MIB: '512',
        COMPACTION_UNIT_MIB: '0.03',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      },
      maxBuffer: 16 * 2 ** 20,
    },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`${name} failed: ${error.stdout ?? ''} ${error.stderr?.slice(-2000) ?? ''}`);
  });
  // The handlers log to stdout, as in CloudWatch: the result is after the last mark.
  return JSON.parse(stdout.slice(stdout.lastIndexOf(MARK) + MARK.length));
}

describe('fan-out compaction Lambdas, bundled as deployed', () => {
  it('plan, unit and commit compact a staged day on S3 and publish it once', async () => {
    const prefix = 'lambda-lake';
    const store = new S3Store(s3.client, s3.bucket, prefix);
    const staged = await writeStagingDay(store, {
      day: '2026-11-20',
      hours: [1, 7, 15],
      duplicateShare: 0.05,
      seed: 5,
    });
    // A small late day in the window: compacted in one run by a worker.
    const late = await writeStagingDay(store, { day: '2026-11-18', hours: [4], minutes: [0], seed: 6 });
    // A day far outside the window that a replay staged events in and left to the nightly run.
    const replayed = await writeStagingDay(store, { day: '2026-11-05', hours: [9], minutes: [0], seed: 7 });
    await markPendingDays(store, ['2026-11-05']);

    // The nightly schedule's event: yesterday of 2026-11-21, plus the late window.
    const plan = (await invoke('plan', { scheduledTime: '2026-11-21T02:30:00Z' }, prefix)) as PlanOutput;
    expect(plan.days[0]).toMatchObject({ day: '2026-11-20', mode: 'fanout' });
    expect(plan.days.find((d) => d.day === '2026-11-18')).toMatchObject({ mode: 'single' });
    expect(plan.days.find((d) => d.day === '2026-11-19')).toMatchObject({ mode: 'skipped' });
    expect(plan.days.find((d) => d.day === '2026-11-05')).toMatchObject({ mode: 'single' });
    const fanned = plan.units.filter((u) => u.day === '2026-11-20');
    expect(fanned.length).toBeGreaterThanOrEqual(3);
    expect(plan.commits).toEqual([{ day: '2026-11-20', run_id: fanned[0]!.run_id }]);

    // The Distributed Map: every item, two at a time; one of them twice, as a retry would.
    const items = [...plan.units, fanned[0]!];
    for (let i = 0; i < items.length; i += 2)
      await Promise.all(items.slice(i, i + 2).map((item) => invoke('unit', item, prefix)));
    const summary = (await invoke('commit', plan.commits[0], prefix)) as Record<string, unknown>;
    expect(summary).toMatchObject({
      day: '2026-11-20',
      status: 'published',
      rows: staged.unique,
      duplicates_dropped: staged.duplicates,
      units: fanned.length,
    });

    const manifest = (await readManifest(store, '2026-11-20'))!.manifest;
    expect(manifest.run_id).toBe(fanned[0]!.run_id);
    expect(manifest.rows).toBe(staged.unique);
    expect(manifest.staging_objects).toHaveLength(staged.keys.length);
    expect((await readManifest(store, '2026-11-18'))!.manifest.rows).toBe(late.unique);
    expect((await readManifest(store, '2026-11-05'))!.manifest.rows).toBe(replayed.unique);
    expect(await pendingDays(store)).toEqual([]);
    expect(await listAll(store, runPrefix('2026-11-20'))).toEqual([]);

    // A second start of the same night finds nothing to do.
    const again = (await invoke('plan', { scheduledTime: '2026-11-21T02:30:00Z' }, prefix)) as PlanOutput;
    expect(again.units).toEqual([]);
    // A commit of a run that already published, or whose units are gone, publishes nothing.
    const replay = (await invoke('commit', plan.commits[0], prefix).catch((e: Error) => e)) as Error;
    expect(replay.message).toMatch(/no plan|UnitMissingError|CompactionError/);
    expect((await readManifest(store, '2026-11-20'))!.manifest.run_id).toBe(fanned[0]!.run_id);
  });
});
