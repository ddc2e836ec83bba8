// The transform Lambda: records/s through it against dynalite, DynamoDB requests per event
// (from the transform's own metrics), and its CPU cost per record with DynamoDB answered
// instantly by an in-process stub, as a ratio to the floor of base64 -> JSON.parse ->
// JSON.stringify -> base64 on the same records in the same run (bench/transform-cpu.ts). Events
// come from the generator (the app's mix, 1% duplicates, 1% bad). Targets: reads <= 0.03
// requests/event, CPU <= 2.5x floor.
//
// The CPU ratio is measured on what Lambda runs: the handler bundled by esbuild with the CDK's
// options (infra/lambda-common.ts BUNDLING), in a node started with the function's NODE_OPTIONS
// and the heap flags the Lambda Node.js runtime derives from the function's memory. The same
// measurement from source under tsx with node's defaults is printed beside it, for reference.
//
//   npm run bench transform     (FIRELAKE_BENCH_RECORDS=4000 records through dynalite by default)
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DEFAULT_PACK_BYTES } from '../generator/index.js';
import { DEFAULT_CONFIG } from '../infra/config.js';
import { esbuildAsDeployed, FUNCTION_NODE_OPTIONS, ROOT } from '../infra/lambda-common.js';
import { createTables, startDynalite } from '../local/dynamodb.js';
import { dynamoClient } from '../test/transform-fixtures.js';
import { countingSink } from '../transform/metrics.js';
import { createTransform } from '../transform/transform.js';
import { report } from './report.js';
import type { CpuResult } from './transform-cpu.js';
import { packingFigures } from './transform-packing.js';
import { benchBatches, benchConfig, lastArrival } from './transform-records.js';

const DYNALITE_RECORDS = Number(process.env.FIRELAKE_BENCH_RECORDS ?? 4_000);

// ---- 1. through dynalite ---------------------------------------------------------------------

const dynalite = await startDynalite();
const client = dynamoClient(dynalite.endpoint, 3);
await createTables(client);
const viaDynalite = benchBatches(DYNALITE_RECORDS, 1);
const sink = countingSink();
const real = createTransform({
  dynamodb: client,
  config: benchConfig,
  metrics: sink,
  now: () => lastArrival(viaDynalite[0]!),
});
const t = performance.now();
for (const b of viaDynalite) await real(b);
const dynaliteMs = performance.now() - t;
client.destroy();
await dynalite.close();
const totals = sink.totals;
console.log(
  `dynalite: ${totals.records} records, ${totals.staged} staged, ${totals.duplicates} duplicates, ` +
    `${totals.records - totals.staged - totals.processingFailed} quarantined, ${totals.lessons} lessons ` +
    `(${totals.enrichmentMisses} not fully enriched)`,
);

// ---- 2. CPU with an instant in-process stub, as deployed and from source ---------------------

/**
 * The heap flags the Lambda Node.js runtime's bootstrap passes for a function's memory: a tenth
 * of it for the young generation (two semi-spaces), the rest for the old one.
 */
function lambdaHeapFlags(memoryMiB: number): string[] {
  const newSpace = Math.floor(memoryMiB / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMiB - newSpace}`,
  ];
}

/** bench/transform-cpu.ts bundled as `cdk deploy` bundles the handler. */
async function bundleAsDeployed(): Promise<string> {
  const outdir = join(ROOT, '.bench', 'transform-cpu');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, 'index.mjs');
  await build({
    entryPoints: [join(ROOT, 'bench', 'transform-cpu.ts')],
    outfile,
    ...esbuildAsDeployed(),
    logLevel: 'warning',
  });
  return outfile;
}

function measure(args: string[]): CpuResult {
  const run = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`cpu measurement failed (${args.join(' ')}): exit ${run.status}`);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as CpuResult;
}

const deployedFlags = [
  ...FUNCTION_NODE_OPTIONS.split(' '),
  ...lambdaHeapFlags(DEFAULT_CONFIG.transform.memoryMiB),
];
const deployed = measure([...deployedFlags, await bundleAsDeployed()]);
console.log(
  `as deployed (${deployedFlags.join(' ')}): cpu ratio per round, in run order: ${rounds(deployed)}`,
);
const source = measure(['--import', 'tsx', join(ROOT, 'bench', 'transform-cpu.ts')]);
console.log(`from source (tsx, node defaults): cpu ratio per round, in run order: ${rounds(source)}`);

function rounds(r: CpuResult): string {
  return r.ratios.map((x) => x.toFixed(2)).join(' ');
}

// ---- Firehose records before and after packing (the transform sees the same events) ---------
const single = await packingFigures(20_000, 0);
const packed = await packingFigures(20_000, DEFAULT_PACK_BYTES);

report('transform', {
  'firehose records/event, one per record': single.recordsPerEvent,
  'firehose records/event, packed 5 KB': packed.recordsPerEvent,
  'firehose billed bytes/event, one per record': Math.round(single.billedBytesPerEvent),
  'firehose billed bytes/event, packed 5 KB': Math.round(packed.billedBytesPerEvent),
  'billed bytes ratio packed/one per record': packed.billedBytesPerEvent / single.billedBytesPerEvent,
  'deaggregation cpu us/event (local Firehose)': packed.deaggregateUsPerEvent ?? 0,
  'JSON.parse cpu us/event, same events': packed.parseUsPerEvent ?? 0,
  'dynalite records': totals.records,
  'dynalite records/s': Math.round(totals.records / (dynaliteMs / 1000)),
  'dynamodb writes/event': totals.dynamodbWrites / totals.records,
  'dynamodb reads/event': totals.dynamodbReads / totals.records,
  'dynamodb reads/event target': 0.03,
  'stub records (valid JSON)': deployed.records,
  'floor cpu us/record': deployed.floorUs,
  'handler cpu us/record (instant stub)': deployed.handlerUs,
  'cpu ratio handler/floor (median round)': deployed.ratio,
  'cpu ratio target': 2.5,
  'from source under tsx: floor cpu us/record': source.floorUs,
  'from source under tsx: handler cpu us/record': source.handlerUs,
  'from source under tsx: cpu ratio (median round)': source.ratio,
});
