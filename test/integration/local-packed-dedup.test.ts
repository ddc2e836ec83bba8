import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StagedEvent } from '../../events/types.js';
import { type DeliveryStreamConfig, LOCAL_DELIVERY } from '../../lake/delivery.js';
import { FolderStore } from '../../lake/folder-store.js';
import { DeliveryStream, type TransformFunction } from '../../local/delivery-stream.js';
import { WriteAheadLog } from '../../local/wal.js';
import { countingSink } from '../../transform/metrics.js';
import { createTransform } from '../../transform/transform.js';
import { readLines } from '../support/lake-read.js';
import { validEvents } from '../support/serve-process.js';
import { type Ev, failingAfter, testConfig, useLocalDynamo } from '../transform-fixtures.js';

// The local Firehose with multi-record deaggregation and the real transform on dynalite: events
// packed into ~5 KB records, client copies of some packed into the same call (so sharing its
// arrival time) far enough apart to reach different invocations, and invocations that fail
// after part of their dedup markers are written, then are retried.

const dynamo = useLocalDynamo();

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'firelake-packed-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A small processor buffer, so one call spans several invocations.
const CONFIG: DeliveryStreamConfig = {
  ...LOCAL_DELIVERY,
  buffering: { sizeMiB: 64, intervalSeconds: 600 },
  processor: { bufferSizeMiB: 0.2, bufferIntervalSeconds: 600, retries: 3 },
  dynamicPartitioningRetrySeconds: 0,
};

/** Newline-delimited records of at most `limit` bytes, as a producer packs them. */
function pack(events: readonly Buffer[], limit = 5_000): Buffer[] {
  const records: Buffer[] = [];
  let open: Buffer[] = [];
  let bytes = 0;
  for (const e of events) {
    if (open.length > 0 && bytes + 1 + e.length > limit) {
      records.push(Buffer.from(open.join('\n')));
      open = [];
      bytes = 0;
    }
    bytes += (open.length > 0 ? 1 : 0) + e.length;
    open.push(e);
  }
  if (open.length > 0) records.push(Buffer.from(open.join('\n')));
  return records;
}

describe('dedup of packed records through the local Firehose', () => {
  it('stages every event once and tombstones every client copy packed into the same call, across invocations and retries after partial writes', async () => {
    const store = new FolderStore(join(root, 'lake'));
    const events = validEvents(2_000, 25);
    // Four calls of 500 events (~180 KB, each across a cut of the 0.2 MiB processor buffer); in
    // each, copies of its first 4 events packed at its end.
    const calls: Buffer[][] = [];
    for (let c = 0; c < 4; c++) {
      const own = events.slice(c * 500, (c + 1) * 500).map((e) => e.data);
      calls.push(pack([...own, ...own.slice(0, 4)]));
    }
    const copies = 4 * 4;
    // The first attempt of every invocation fails after 40 markers are written; Firehose retries.
    const config = testConfig();
    const healthy = createTransform({ dynamodb: dynamo.client, config, metrics: countingSink() });
    const attempted = new Set<string>();
    /** The event_uuids of each invocation that answered, to see where the copies went. */
    const answered: Set<string>[] = [];
    const transform: TransformFunction = async (event) => {
      const first = event.records[0]!.recordId;
      if (!attempted.has(first)) {
        attempted.add(first);
        const flaky = createTransform({
          dynamodb: failingAfter(dynamo.client, 40),
          config,
          metrics: countingSink(),
        });
        return flaky(event);
      }
      const result = await healthy(event);
      answered.push(
        new Set(
          event.records.map((r) => (JSON.parse(Buffer.from(r.data, 'base64').toString()) as Ev).event_uuid),
        ),
      );
      return result;
    };
    const stream = new DeliveryStream({ config: CONFIG, store, transform, retryDelayMs: () => 0 });
    for (const records of calls) {
      const answers = stream.put(records);
      expect(answers.every((a) => 'RecordId' in a)).toBe(true);
    }
    await stream.close();

    const stats = stream.stats();
    expect(stats.failedInvocations).toBe(answered.length);
    expect(answered.length).toBeGreaterThanOrEqual(4);
    // Most copies reached another invocation than their original: the case dedup must catch.
    const split = events
      .filter((_, i) => i % 500 < 4)
      .filter((e) => answered.filter((uuids) => uuids.has(e.uuid)).length === 2).length;
    expect(split).toBeGreaterThanOrEqual(copies / 2);
    const staged = await readLines<StagedEvent>(store, 'staging/');
    const counts = new Map<string, number>();
    for (const { value } of staged) counts.set(value.event_uuid, (counts.get(value.event_uuid) ?? 0) + 1);
    expect(counts.size).toBe(events.length);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    const quarantined = await readLines<{ reason: string }>(store, 'quarantine/');
    expect(quarantined.map((q) => q.value.reason)).toEqual(Array(copies).fill('duplicate'));
  });

  it('gives a logged record redelivered by a later run the recordIds of its first delivery', async () => {
    const dir = join(root, 'wal');
    const records = pack(
      validEvents(40, 26).map((e) => e.data),
      2_000,
    );
    const idsOf = (seen: string[][]) => seen.flat().sort();
    // The first run: the transform sees the records and fails; the run dies before their error
    // objects are written (the partition buffers hold them), so the log still has them.
    const first = WriteAheadLog.open({ dir });
    const seenFirst: string[][] = [];
    const dying = new DeliveryStream({
      config: { ...CONFIG, processor: { ...CONFIG.processor, bufferIntervalSeconds: 0, retries: 0 } },
      store: new FolderStore(join(root, 'lake-dying')),
      journal: first.wal,
      transform: async (event) => {
        seenFirst.push(event.records.map((r) => r.recordId));
        throw new Error('the run dies here');
      },
      retryDelayMs: () => 0,
    });
    dying.put(records);
    await dying.committed();
    while (idsOf(seenFirst).length < 40) await new Promise((r) => setTimeout(r, 10));
    await first.wal.close();
    // The next run redelivers what the log kept.
    const again = WriteAheadLog.open({ dir });
    expect(again.recovered).toHaveLength(records.length);
    const seenAgain: string[][] = [];
    const next = new DeliveryStream({
      config: CONFIG,
      store: new FolderStore(join(root, 'lake-next')),
      journal: again.wal,
      transform: async (event) => {
        seenAgain.push(event.records.map((r) => r.recordId));
        return {
          records: event.records.map((r) => ({
            recordId: r.recordId,
            result: 'Dropped' as const,
            data: r.data,
          })),
        };
      },
      retryDelayMs: () => 0,
    });
    next.putRecovered(again.recovered);
    await next.close();
    await again.wal.close();
    expect(idsOf(seenFirst)).toHaveLength(40);
    expect(idsOf(seenAgain)).toEqual(idsOf(seenFirst));
  });
});
