import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firehoseClient } from '../../aws/firehose.js';
import { createCuratedView } from '../../compaction/read.js';
import { firehoseSink } from '../../generator/firehose-sink.js';
import { type DeliveryStreamConfig, LOCAL_DELIVERY } from '../../lake/delivery.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { type Day, dayOf } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';
import type { LocalPipeline } from '../../local/runtime.js';
import type { Ev } from '../transform-fixtures.js';

// Shared by the replay tests: a local Firehose with short buffers (objects within a second or
// two), sending through the real SDK, and reading curated rows back through the manifests.

export const FAST_DELIVERY: DeliveryStreamConfig = {
  ...LOCAL_DELIVERY,
  buffering: { ...LOCAL_DELIVERY.buffering, intervalSeconds: 1 },
  processor: { ...LOCAL_DELIVERY.processor, bufferIntervalSeconds: 0.2 },
};

/** Points this process's SDK at the pipeline, as a producer's shell would be. */
export function useEndpoint(pipeline: LocalPipeline): void {
  for (const [k, v] of Object.entries(pipeline.env)) process.env[k] = v;
}

/** Sends events with PutRecordBatch (AWS SDK -> local endpoint), then flushes them into the lake. */
export async function sendEvents(pipeline: LocalPipeline, events: readonly (Ev | Record<string, unknown>)[]) {
  useEndpoint(pipeline);
  const client = firehoseClient();
  try {
    const sink = firehoseSink({ client, streamName: pipeline.streamName });
    for (const e of events) await sink.write(JSON.stringify(e));
    const counters = await sink.close();
    if (counters.undelivered > 0) throw new Error(`${counters.undelivered} records undelivered`);
  } finally {
    client.destroy();
  }
  await pipeline.flush();
}

export type CuratedRow = Record<string, unknown>;

/** Every curated row of the days, as JSON values, by event_uuid then the rest. */
export async function curatedRows(store: ObjectStore, days: readonly Day[]): Promise<CuratedRow[]> {
  const db = await openDuckDb();
  const connection = db.connection;
  const downloads = await mkdtemp(join(tmpdir(), 'firelake-curated-'));
  try {
    const files = await createCuratedView(connection, store, days, { downloadDir: downloads });
    if (files === 0) return [];
    const reader = await connection.runAndReadAll(
      'SELECT * FROM curated_events ORDER BY event_uuid, received_at',
    );
    return reader.getRowObjectsJson() as CuratedRow[];
  } finally {
    db.close();
    await rm(downloads, { recursive: true, force: true });
  }
}

export function today(): Day {
  return dayOf(Date.now());
}

/** A lesson event with a field of the wrong JSON type: a producer's bug. */
export function wrongType(e: Ev): Ev {
  const specifics = e.event_specifics;
  return {
    ...e,
    event_specifics: {
      ...specifics,
      number_of_lessons_in_course: String(specifics.number_of_lessons_in_course),
    },
  };
}

/** The fix of wrongType, as a data engineer would write it. */
export const LESSON_FIX_SQL = `-- lesson:completed sent number_of_lessons_in_course as a string (app 5.2.0): make it a number again
SELECT json_merge_patch(
  payload,
  json_object('event_specifics', json_object(
    'number_of_lessons_in_course',
    CAST(json_extract_string(payload, '$.event_specifics.number_of_lessons_in_course') AS INTEGER)
  ))
)::VARCHAR AS payload
FROM quarantined
WHERE reason = 'schema_violation' AND event_name = 'lesson:completed';
`;
