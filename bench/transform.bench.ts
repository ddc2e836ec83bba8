// The transform Lambda: records/s through it against dynalite, DynamoDB requests per event
// (from the transform's own metrics), and its CPU cost per record with DynamoDB answered
// instantly by an in-process stub, as a ratio to the floor of base64 -> JSON.parse ->
// JSON.stringify -> base64 on the same records in the same run. Events come from the generator
// (seed 000 mix, 1% duplicates, 1% bad). Targets: reads <= 0.03 requests/event, CPU <= 2.5x floor.
//
//   npm run bench transform     (FIRELAKE_BENCH_RECORDS=4000 records through dynalite by default)
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BatchGetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
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
// A warm Lambda handles thousands of batches: measure after the JIT has settled on both paths
// (the per-round ratios kept falling through the first rounds), with the same warm-up for both.
const WARMUP_ROUNDS = 3;

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
 * A stub, not DynamoDB: answers in-process at once (every conditional write accepted, every read
 * finds nothing), so what is measured is the transform's own CPU, SDK command building included.
 */
const instantStub: DynamoSender = {
  send: (async (command: unknown) => {
    if (command instanceof PutItemCommand) return {};
    if (command instanceof BatchGetItemCommand) return { Responses: {}, UnprocessedKeys: {} };
    throw new Error('stub: unexpected command');
  }) as DynamoSender['send'],
};

/** The floor: base64 -> JSON.parse -> JSON.stringify -> base64, for every record of a batch. */
function floor(b: FirehoseTransformationEvent): string[] {
  const out = new Array<string>(b.records.length);
  for (let i = 0; i < b.records.length; i++) {
    const value = JSON.parse(Buffer.from(b.records[i]!.data, 'base64').toString('utf8'));
    out[i] = Buffer.from(JSON.stringify(value)).toString('base64');
  }
  return out;
}

/** A full collection, without starting node with --expose-gc. */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const cpuNow = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

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
// Floor and handler alternate batch by batch, so that the load of a shared machine weighs on
// both alike; the ratio is taken per round and the median round reported, after WARMUP_ROUNDS.
const rounds: { floorUs: number; handlerUs: number; ratio: number }[] = [];
for (let round = 0; round < WARMUP_ROUNDS + CPU_ROUNDS; round++) {
  // Each round starts from a collected heap, so that no round pays for the garbage of the last.
  collectGarbage();
  const stubbed = createTransform({ dynamodb: instantStub, config, now: () => lastArrival(cpuBatches[0]!) });
  let floorCpu = 0;
  let handlerCpu = 0;
  for (const b of cpuBatches) {
    let t0 = cpuNow();
    floor(b);
    floorCpu += cpuNow() - t0;
    t0 = cpuNow();
    await stubbed(b);
    handlerCpu += cpuNow() - t0;
  }
  if (round >= WARMUP_ROUNDS) {
    rounds.push({
      floorUs: floorCpu / cpuRecords,
      handlerUs: handlerCpu / cpuRecords,
      ratio: handlerCpu / floorCpu,
    });
  }
}
console.log(`cpu ratio per round, in run order: ${rounds.map((r) => r.ratio.toFixed(2)).join(' ')}`);
const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;

report('transform', {
  'dynalite records': totals.records,
  'dynalite records/s': Math.round(totals.records / (dynaliteMs / 1000)),
  'dynamodb writes/event': totals.dynamodbWrites / totals.records,
  'dynamodb reads/event': totals.dynamodbReads / totals.records,
  'dynamodb reads/event target': 0.03,
  'stub records (valid JSON)': cpuRecords,
  'floor cpu us/record': median.floorUs,
  'handler cpu us/record (instant stub)': median.handlerUs,
  'cpu ratio handler/floor (median round)': median.ratio,
  'cpu ratio target': 2.5,
});
