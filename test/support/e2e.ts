import { expect } from 'vitest';
import { firehoseClient } from '../../aws/firehose.js';
import { PERSONAL_FIELDS } from '../../events/catalog.js';
import type { QuarantineRecord, StagedEvent } from '../../events/types.js';
import { firehoseSink, type GeneratorStats, runGenerator } from '../../generator/index.js';
import { BAD_KINDS } from '../../generator/stats.js';
import { LATE_AFTER_MS, LATE_SHELF } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';
import type { DeliveryStreamStats } from '../../local/delivery-stream.js';
import { startLocalPipeline } from '../../local/runtime.js';
import { readLines } from './lake-read.js';

// The end-to-end run, shared by the folder and the S3 variants:
// generator -> AWS SDK -> local Firehose endpoint -> real transform on dynalite -> lake, then
// reconciliation of the lake against the generator's ground truth.

export const E2E_GENERATOR = {
  seed: 42,
  maxRecords: 1_000,
  duplicateRate: 0.03,
  conflictRate: 0.01,
  badRate: 0.05,
  lateRate: 0.02,
};

/** What the generator sent, and what the local Firehose counted: Firehose records and events apart. */
export type EndToEndRun = GeneratorStats & { firehose: DeliveryStreamStats };

/** The run, packed into 5 KB Firehose records as producers do by default (`packBytes: 0`: one per record). */
export async function runEndToEnd(store: ObjectStore, packBytes?: number): Promise<EndToEndRun> {
  const pipeline = await startLocalPipeline({ lake: store, inMemoryDynamo: true, port: 0 });
  try {
    // The producer finds the endpoint the way any SDK producer does: AWS_ENDPOINT_URL_FIREHOSE.
    for (const [k, v] of Object.entries(pipeline.env)) process.env[k] = v;
    const client = firehoseClient();
    try {
      // Simulated time ending about now, so nothing is in the future when it arrives.
      const stats = await runGenerator(
        { ...E2E_GENERATOR, start: Date.now() - 60_000 },
        firehoseSink({ client, streamName: pipeline.streamName, packBytes }),
      );
      await pipeline.stream.flush();
      return { ...stats, firehose: pipeline.stream.stats() };
    } finally {
      client.destroy();
    }
  } finally {
    await pipeline.close();
  }
}

/** Every unique event staged exactly once, every bad record and duplicate in quarantine, nothing else. */
export async function reconcile(store: ObjectStore, stats: EndToEndRun): Promise<void> {
  const staged = await readLines<StagedEvent>(store, 'staging/');
  const quarantined = await readLines<QuarantineRecord>(store, 'quarantine/');
  const errors = await readLines(store, 'errors/');

  // The run exercised what it is meant to.
  expect(stats.duplicates).toBeGreaterThan(10);
  expect(stats.conflicts).toBeGreaterThan(3);
  expect(stats.late).toBeGreaterThan(5);
  for (const [kind, reason] of Object.entries(BAD_KINDS)) {
    if (reason !== null) expect(stats.bad_by_kind[kind as keyof typeof BAD_KINDS], kind).toBeGreaterThan(0);
  }

  // Staging: each unique event exactly once.
  const uuids = staged.map((l) => l.value.event_uuid);
  expect(new Set(uuids).size).toBe(uuids.length);
  expect(uuids.length).toBe(stats.unique_events);
  for (const { key, value } of staged) {
    expect(key).toMatch(
      /^staging\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/minute=\d{2}\/firelake-events-1-.+\.gz$/,
    );
    // Staging is partitioned by event time: its minute, or its day's late shelf (hour=24) when
    // the event reached Firehose more than an hour after it happened (lake/layout.ts).
    const t = new Date(value.created_at);
    const late = Date.parse(value.received_at) - t.getTime() > LATE_AFTER_MS;
    const at = late
      ? `hour=${LATE_SHELF.hour}/minute=${LATE_SHELF.minute}`
      : `hour=${pad(t.getUTCHours())}/minute=${pad(t.getUTCMinutes())}`;
    const expected = `year=${t.getUTCFullYear()}/month=${pad(t.getUTCMonth() + 1)}/day=${pad(t.getUTCDate())}/${at}/`;
    expect(key).toContain(expected);
    for (const field of PERSONAL_FIELDS) expect(value.event_specifics).not.toHaveProperty(field);
  }

  // Quarantine: every bad record with the reason of its kind, every duplicate a tombstone,
  // every conflict; nothing else.
  const byReason: Record<string, number> = {};
  for (const { value } of quarantined) byReason[value.reason] = (byReason[value.reason] ?? 0) + 1;
  const expected: Record<string, number> = {};
  for (const [kind, n] of Object.entries(stats.bad_by_kind)) {
    const reason = BAD_KINDS[kind as keyof typeof BAD_KINDS];
    if (reason !== null && n > 0) expected[reason] = (expected[reason] ?? 0) + n;
  }
  expected.duplicate = stats.duplicates;
  expected.uuid_conflict = stats.conflicts;
  expect(byReason).toEqual(expected);
  for (const { value } of quarantined.filter((q) => q.value.reason === 'duplicate')) {
    expect(value.payload).toBeNull();
    expect(value.first_record_id).toEqual(expect.any(String));
    expect(uuids).toContain(value.event_uuid);
  }

  // Only oversized records never left the producer; nothing failed inside Firehose.
  expect(stats.undelivered).toBe(stats.bad_by_kind.oversized);
  expect(errors).toEqual([]);
  expect(staged.length + quarantined.length).toBe(stats.records - stats.undelivered);

  // Firehose records and events apart: every record the producer put arrived, every event in
  // them reached the transform on its own (deaggregation). The only records that did not split
  // are the bad lines that are not JSON objects, which the producer sends alone.
  expect(stats.firehose.incomingRecords).toBe(stats.firehose_records);
  expect(stats.firehose.processorRecords).toBe(stats.records - stats.undelivered);
  expect(stats.firehose.deaggregationFailures).toBe(
    stats.bad_by_kind.invalid_json + stats.bad_by_kind.invalid_utf8,
  );
  expect(stats.firehose.processorRecords).toBe(staged.length + quarantined.length);
}

const pad = (n: number) => String(n).padStart(2, '0');
