// The transform Lambda: records/s through it against dynalite, DynamoDB requests per event
// (from the transform's own metrics), and its CPU cost per record with DynamoDB answered
// instantly by an in-process stub, as a ratio to the floor of base64 -> JSON.parse ->
// JSON.stringify -> base64 on the same records in the same run. Events come from the generator
// (seed 000 mix, 1% duplicates, 1% bad). Targets: reads <= 0.03 requests/event, CPU <= 2.5x floor.
//
//   npm run bench transform     (FIRELAKE_BENCH_RECORDS=4000 records through dynalite by default)
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';
import { generateRecords } from '../generator/index.js';
import { createTables, DEFAULT_TABLE_NAMES, startDynalite } from '../local/dynamodb.js';
import { dynamoClient } from '../test/transform-fixtures.js';
import type { TransformConfig } from '../transform/config.js';
import type { DynamoSender } from '../transform/dynamo.js';
import { countingSink } from '../transform/metrics.js';
import { createTransform } from '../transform/transform.js';
import { report } from './report.js';

const DYNALITE_RECORDS = Number(process.env.FIRELAKE_BENCH_RECORDS ?? 4_000);
const CPU_RECORDS = 20_000;
const BATCH = 500;
const CPU_ROUNDS = 5;

const config: TransformConfig = { tables: { ...DEFAULT_TABLE_NAMES }, dedupTtlHours: 168, lateWindowDays: 7 };

/** Generated records as Firehose batches; arrival 300 ms after the event time. */
function batches(total: number, seed: number): FirehoseTransformationEvent[] {
  const start = Date.now() - 3_600_000;
  const out: FirehoseTransformationEvent[] = [];
  let records: FirehoseTransformationEventRecord[] = [];
  let n = 0;
  for (const r of generateRecords({ seed, start, maxRecords: total, duplicateRate: 0.01, badRate: 0.01 })) {
    const bytes = typeof r.data === 'string' ? Buffer.from(r.data) : r.data;
    records.push({
      recordId: `b${seed}-${++n}`,
      approximateArrivalTimestamp: r.at + 300,
      data: bytes.toString('base64'),
    });
    if (records.length === BATCH) {
      out.push(event(records));
      records = [];
    }
  }
  if (records.length > 0) out.push(event(records));
  return out;
}

function event(records: FirehoseTransformationEventRecord[]): FirehoseTransformationEvent {
  return {
    invocationId: `inv-${records[0]!.recordId}`,
    deliveryStreamArn: 'arn:bench',
    region: 'eu-west-1',
    records,
  };
}

const lastArrival = (b: FirehoseTransformationEvent) =>
  b.records[b.records.length - 1]!.approximateArrivalTimestamp;

// ---- 1. through dynalite ---------------------------------------------------------------------

const dynalite = await startDynalite();
const client = dynamoClient(dynalite.endpoint, 3);
await createTables(client);
const viaDynalite = batches(DYNALITE_RECORDS, 1);
const sink = countingSink();
const real = createTransform({
  dynamodb: client,
  config,
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

// ---- 2. CPU with an instant in-process stub ---------------------------------------------------

/**
 * A stub, not DynamoDB: answers at once from a Map, as a DynamoDB with zero latency would, so
 * what is measured is the transform's own CPU. PutItem on the dedup table fails its condition
 * when the uuid is there (enough for "new" vs "seen"); BatchGetItem returns stored items.
 */
function instantStub(): DynamoSender {
  const items = new Map<string, Record<string, unknown>>();
  const keyOf = (table: string, k: Record<string, { S?: string } | undefined>) =>
    `${table}|${k.event_uuid?.S ?? ''}|${k.user_uuid?.S ?? ''}|${k.language?.S ?? ''}`;
  return {
    send: (async (command: unknown) => {
      if (command instanceof PutItemCommand) {
        const { TableName = '', Item = {} } = command.input;
        const key = keyOf(TableName, Item as never);
        if (TableName === config.tables.dedup && items.has(key)) {
          throw new ConditionalCheckFailedException({ message: 'stub', $metadata: {} });
        }
        items.set(key, Item);
        return {};
      }
      if (command instanceof BatchGetItemCommand) {
        const responses: Record<string, unknown[]> = {};
        for (const [table, { Keys = [] }] of Object.entries(command.input.RequestItems ?? {})) {
          responses[table] = Keys.map((k) => items.get(keyOf(table, k as never))).filter(Boolean);
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      throw new Error('stub: unexpected command');
    }) as DynamoSender['send'],
  };
}

function floor(bs: FirehoseTransformationEvent[]): number {
  let bytes = 0;
  for (const b of bs) {
    const out = new Array(b.records.length);
    for (let i = 0; i < b.records.length; i++) {
      const r = b.records[i]!;
      const value = JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'));
      out[i] = Buffer.from(JSON.stringify(value)).toString('base64');
      bytes += out[i].length;
    }
  }
  return bytes;
}

function cpuMs(fn: () => unknown): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function cpuMsAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

// The floor's input is valid JSON only: records that are not UTF-8 JSON would throw in it.
const cpuBatches = batches(CPU_RECORDS, 2).map((b) =>
  event(
    b.records.filter((r) => {
      try {
        JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(r.data, 'base64')));
        return true;
      } catch {
        return false;
      }
    }),
  ),
);
const cpuRecords = cpuBatches.reduce((n, b) => n + b.records.length, 0);
const floorRuns: number[] = [];
const handlerRuns: number[] = [];
for (let round = 0; round <= CPU_ROUNDS; round++) {
  (globalThis as { gc?: () => void }).gc?.();
  const f = cpuMs(() => floor(cpuBatches));
  // A fresh stub and transform per round: every event is new again, as in production.
  const stubbed = createTransform({
    dynamodb: instantStub(),
    config,
    now: () => lastArrival(cpuBatches[0]!),
  });
  (globalThis as { gc?: () => void }).gc?.();
  const h = await cpuMsAsync(async () => {
    for (const b of cpuBatches) await stubbed(b);
  });
  if (round > 0) {
    // Round 0 warms up the JIT for both.
    floorRuns.push(f);
    handlerRuns.push(h);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const floorUs = (median(floorRuns) * 1000) / cpuRecords;
const handlerUs = (median(handlerRuns) * 1000) / cpuRecords;

report('transform', {
  'dynalite records': totals.records,
  'dynalite records/s': Math.round(totals.records / (dynaliteMs / 1000)),
  'dynamodb writes/event': totals.dynamodbWrites / totals.records,
  'dynamodb reads/event': totals.dynamodbReads / totals.records,
  'dynamodb reads/event target': 0.03,
  'stub records (valid JSON)': cpuRecords,
  'floor cpu us/record': floorUs,
  'handler cpu us/record (instant stub)': handlerUs,
  'cpu ratio handler/floor': handlerUs / floorUs,
  'cpu ratio target': 2.5,
});
