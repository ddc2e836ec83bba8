import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';
import { generateRecords } from '../generator/index.js';
import { DEFAULT_DEDUP_TTL_HOURS, DEFAULT_TRANSFORM_LATE_WINDOW_DAYS } from '../lake/settings.js';
import type { TransformConfig } from '../transform/config.js';
import { DEFAULT_TABLE_NAMES } from '../transform/tables.js';

// The records of the transform benches: generated events (the app's mix, 1% duplicates, 1% bad)
// as Firehose batches of 500, arriving 300 ms after their event time.

const BATCH = 500;

/** The transform's configuration with its defaults, as deployed. */
export const benchConfig: TransformConfig = {
  tables: { ...DEFAULT_TABLE_NAMES },
  dedupTtlHours: DEFAULT_DEDUP_TTL_HOURS,
  lateWindowDays: DEFAULT_TRANSFORM_LATE_WINDOW_DAYS,
};

export function benchBatches(total: number, seed: number): FirehoseTransformationEvent[] {
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
      out.push(batchOf(records));
      records = [];
    }
  }
  if (records.length > 0) out.push(batchOf(records));
  return out;
}

function batchOf(records: FirehoseTransformationEventRecord[]): FirehoseTransformationEvent {
  return {
    invocationId: `inv-${records[0]!.recordId}`,
    deliveryStreamArn: 'arn:bench',
    region: 'eu-west-1',
    records,
  };
}

export const lastArrival = (b: FirehoseTransformationEvent) =>
  b.records[b.records.length - 1]!.approximateArrivalTimestamp;
