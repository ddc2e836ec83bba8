// The local runtime's DynamoDB calls: CPU per event of the real transform against dynalite in
// its own process (as `firelake serve` runs it), in this process and in dynalite's, with the plain
// SDK client (aws/dynamodb.ts) and with each part of the local client (local/dynamo-client.ts)
// alone and together. The transform makes about one call per event (its dedup write), so the
// per-call work of client and server is most of the local pipeline's CPU per event. Variants run
// in turn within each round, on fresh events (new writes), and the median round is printed.
//
//   npm run bench dynalite-client   (FIRELAKE_BENCH_RECORDS=1500 per variant and round,
//                                 FIRELAKE_BENCH_ROUNDS=5)
import { loadavg } from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../aws/dynamodb.js';
import { localDynamoDbClient } from '../local/dynamo-client.js';
import { createTables, startDynalite } from '../local/dynamodb.js';
import { createTransform } from '../transform/transform.js';
import { processCpuSeconds, report } from './report.js';
import { benchBatches, benchConfig, lastArrival } from './transform-records.js';

const RECORDS = Number(process.env.FIRELAKE_BENCH_RECORDS ?? 1_500);
const ROUNDS = Number(process.env.FIRELAKE_BENCH_ROUNDS ?? 5);

const dynalite = await startDynalite({ separateProcess: true, unixSocket: true });
const socketPath = dynalite.socketPath;
process.env.AWS_ENDPOINT_URL_DYNAMODB = dynalite.endpoint;
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
const region = 'us-east-1';

// Every part of the local client off: each variant below turns one on, the last ones several.
const NONE = { unsigned: false, withoutLogger: false, cacheMiddleware: false, withoutUserAgent: false };
const VARIANTS: Record<string, () => DynamoDBClient> = {
  plain: () => dynamoDbClient({ region }),
  unsigned: () => localDynamoDbClient({ region, ...NONE, unsigned: true }),
  without_logger: () => localDynamoDbClient({ region, ...NONE, withoutLogger: true }),
  unix_socket: () => localDynamoDbClient({ region, ...NONE, socketPath }),
  cached_middleware: () => localDynamoDbClient({ region, ...NONE, cacheMiddleware: true }),
  without_user_agent: () => localDynamoDbClient({ region, ...NONE, withoutUserAgent: true }),
  // The first three parts together (the local client before the last two).
  first_three: () =>
    localDynamoDbClient({ region, ...NONE, socketPath, unsigned: true, withoutLogger: true }),
  local_client: () => localDynamoDbClient({ region, socketPath }),
};
const clients = Object.fromEntries(Object.entries(VARIANTS).map(([k, make]) => [k, make()]));
await createTables(clients.plain!);

let seed = 100;
/** CPU ms per event in this process and in dynalite's, for one variant on fresh events. */
async function measure(name: string): Promise<{ main: number; dynalite: number }> {
  const batches = benchBatches(RECORDS, seed++);
  const transform = createTransform({
    dynamodb: clients[name]!,
    config: benchConfig,
    now: () => lastArrival(batches[0]!),
  });
  const before = process.cpuUsage();
  const childBefore = processCpuSeconds(dynalite.pid);
  for (const b of batches) await transform(b);
  const used = process.cpuUsage(before);
  const child = processCpuSeconds(dynalite.pid) - childBefore;
  return { main: (used.user + used.system) / 1000 / RECORDS, dynalite: (child * 1000) / RECORDS };
}

// One warm-up round, then the measured ones.
for (const name of Object.keys(VARIANTS)) await measure(name);
const rounds: Record<string, { main: number; dynalite: number }[]> = Object.fromEntries(
  Object.keys(VARIANTS).map((name) => [name, []]),
);
for (let r = 0; r < ROUNDS; r++) {
  for (const name of Object.keys(VARIANTS)) rounds[name]!.push(await measure(name));
  console.error(`  round ${r + 1}/${ROUNDS}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const figures: Record<string, number | string> = { events_per_variant_and_round: RECORDS, rounds: ROUNDS };
const total = (name: string) => median(rounds[name]!.map((x) => x.main + x.dynalite));
for (const name of Object.keys(VARIANTS)) {
  figures[`${name}.cpu_ms_per_event_transform_process`] = round(median(rounds[name]!.map((x) => x.main)));
  figures[`${name}.cpu_ms_per_event_dynalite_process`] = round(median(rounds[name]!.map((x) => x.dynalite)));
  figures[`${name}.cpu_ms_per_event_both`] = round(total(name));
  figures[`${name}.both_vs_plain`] = round(total(name) / total('plain'));
}
figures.load_average_1m = round(loadavg()[0]!);
for (const c of Object.values(clients)) c.destroy();
await dynalite.close();
report('dynalite-client', figures);

function round(x: number): number {
  return Number(x.toFixed(3));
}
