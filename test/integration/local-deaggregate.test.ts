import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firehoseClient } from '../../aws/firehose.js';
import { type DeliveryStreamConfig, FIREHOSE_LIMITS, LOCAL_DELIVERY } from '../../lake/delivery.js';
import { FolderStore } from '../../lake/folder-store.js';
import { partitionKeysAt } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';
import { deaggregateJson, MAX_SUB_RECORDS } from '../../local/deaggregate.js';
import { DeliveryStream } from '../../local/delivery-stream.js';
import { startFirehoseServer } from '../../local/firehose-server.js';
import { WriteAheadLog } from '../../local/wal.js';
import { readLines } from '../support/lake-read.js';

// Firehose's multi-record deaggregation (RecordDeAggregation, JSON) in the local stream: what the
// transform is invoked with for packed records, clean and not (docs/packing.md).

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'firelake-deagg-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CONFIG: DeliveryStreamConfig = {
  ...LOCAL_DELIVERY,
  buffering: { sizeMiB: 64, intervalSeconds: 600 },
  processor: { ...LOCAL_DELIVERY.processor, bufferIntervalSeconds: 600 },
};

/** Echoes each record with a newline, as staging, and keeps every invocation. */
function makeStream(config: Partial<DeliveryStreamConfig> = {}) {
  const events: FirehoseTransformationEvent[] = [];
  const logs: string[] = [];
  const store = new FolderStore(join(root, `lake-${events.length}-${Math.random()}`));
  const stream = new DeliveryStream({
    config: { ...CONFIG, ...config },
    store,
    log: (line) => logs.push(line),
    transform: async (event): Promise<FirehoseTransformationResult> => {
      events.push(structuredClone(event));
      return {
        records: event.records.map((r) => ({
          recordId: r.recordId,
          result: 'Ok' as const,
          data: Buffer.from(`${Buffer.from(r.data, 'base64').toString()}\n`).toString('base64'),
          metadata: { partitionKeys: partitionKeysAt('staging', r.approximateArrivalTimestamp) },
        })),
      };
    },
  });
  const invoked = () => events.flatMap((e) => e.records);
  const texts = () => invoked().map((r) => Buffer.from(r.data, 'base64').toString());
  return { stream, store, logs, invoked, texts };
}

const event = (i: number) => JSON.stringify({ event_uuid: `e-${i}`, n: i, text: 'a "quoted" } brace' });

describe('multi-record deaggregation (local Firehose)', () => {
  it('splits newline-delimited JSON into one transform record per event, with the arrival of the record', async () => {
    const { stream, invoked, texts } = makeStream();
    const packed = `${event(1)}\n${event(2)}\n${event(3)}\n`;
    const [answer] = stream.put([Buffer.from(packed)]);
    await stream.flush();
    expect(texts()).toEqual([event(1), event(2), event(3)]);
    const records = invoked();
    expect(new Set(records.map((r) => r.recordId)).size).toBe(3);
    expect(new Set(records.map((r) => r.approximateArrivalTimestamp)).size).toBe(1);
    expect(answer).toHaveProperty('RecordId');
    expect(stream.stats()).toMatchObject({
      incomingRecords: 1,
      processorRecords: 3,
      deaggregationFailures: 0,
    });
  });

  it('splits concatenated JSON objects with nothing between them', async () => {
    const { stream, texts } = makeStream();
    stream.put([Buffer.from(`${event(1)}${event(2)}{"nested":{"a":[1,{"b":"}"}]}}`)]);
    await stream.flush();
    expect(texts()).toEqual([event(1), event(2), '{"nested":{"a":[1,{"b":"}"}]}}']);
  });

  it('splits a record of exactly 500 sub-records and passes one of 501 whole, as AWS documents', async () => {
    const { stream, texts, logs } = makeStream();
    const pack = (count: number) => Buffer.from(Array.from({ length: count }, (_, i) => event(i)).join('\n'));
    stream.put([pack(MAX_SUB_RECORDS)]);
    await stream.flush();
    expect(texts()).toHaveLength(500);
    stream.put([pack(MAX_SUB_RECORDS + 1)]);
    await stream.flush();
    const all = texts();
    expect(all).toHaveLength(501);
    expect(all[500]).toBe(pack(501).toString());
    expect(stream.stats().deaggregationFailures).toBe(1);
    expect(logs.join('\n')).toContain('DynamicPartitioning.DeAggregationRecordCountLimitExceeded');
  });

  it('passes an aggregate that does not split cleanly whole to the transform, and its neighbours split', async () => {
    const { stream, texts, invoked } = makeStream();
    const cases = [
      `${event(1)}\n{"broken": tru}\n${event(2)}`, // a sub-record that is not JSON
      `${event(1)}\n{"open": [1, 2}`, // an object that never closes
      `[${event(1)},${event(2)}]`, // an array of objects: not a valid aggregate
      `${event(1)}, ${event(2)}`, // a comma between objects
      `${event(1)}\n"text"`, // a value that is not an object
      Buffer.concat([
        Buffer.from(`${event(1)}\n{"s":"`),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]).toString('latin1'),
    ];
    const bytes = cases.map((c, i) => (i === 5 ? Buffer.from(c, 'latin1') : Buffer.from(c)));
    stream.put([...bytes, Buffer.from(`${event(7)}\n${event(8)}`)]);
    await stream.flush();
    const seen = invoked().map((r) => Buffer.from(r.data, 'base64'));
    expect(seen).toHaveLength(cases.length + 2);
    for (const [i, b] of bytes.entries()) expect(seen[i]!.equals(b)).toBe(true);
    expect(texts().slice(-2)).toEqual([event(7), event(8)]);
    expect(stream.stats().deaggregationFailures).toBe(cases.length);
  });

  it('keeps a single-event record as it came (same RecordId, same bytes)', async () => {
    const { stream, invoked } = makeStream();
    const [answer] = stream.put([Buffer.from(event(1))]);
    await stream.flush();
    expect(invoked().map((r) => r.recordId)).toEqual(['RecordId' in answer! ? answer.RecordId : '']);
  });

  it('leaves records alone on a stream without deaggregation', async () => {
    const { stream, texts } = makeStream({ deaggregation: undefined });
    stream.put([Buffer.from(`${event(1)}\n${event(2)}`)]);
    await stream.flush();
    expect(texts()).toEqual([`${event(1)}\n${event(2)}`]);
    expect(stream.stats().deaggregationFailures).toBe(0);
  });

  it('refuses an oversize packed record at PutRecordBatch, and takes one of exactly 1,000 KiB', async () => {
    const { stream, store } = makeStream({ streamName: 'deagg-oversize' });
    const server = await startFirehoseServer({ streams: [stream] });
    const saved = process.env.AWS_ENDPOINT_URL_FIREHOSE;
    process.env.AWS_ENDPOINT_URL_FIREHOSE = server.endpoint;
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    try {
      const client = firehoseClient({ region: 'us-east-1', maxAttempts: 1 });
      // 400 events padded so that the pack is exactly the record limit.
      const base = Array.from({ length: 400 }, (_, i) => event(i));
      const pad = FIREHOSE_LIMITS.maxRecordBytes - Buffer.byteLength(base.join('\n')) - '{"pad":""}\n'.length;
      const exact = Buffer.from(`${base.join('\n')}\n{"pad":"${'x'.repeat(pad)}"}`);
      expect(exact.length).toBe(FIREHOSE_LIMITS.maxRecordBytes);
      const oversize = Buffer.concat([exact, Buffer.from(' ')]);
      await expect(
        client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: 'deagg-oversize',
            Records: [{ Data: Buffer.from(event(0)) }, { Data: oversize }],
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException' });
      expect(stream.stats().incomingRecords).toBe(0);
      const out = await client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: 'deagg-oversize', Records: [{ Data: exact }] }),
      );
      expect(out.FailedPutCount).toBe(0);
      await stream.flush();
      expect(await readLines(store, 'staging/')).toHaveLength(401);
      client.destroy();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_FIREHOSE;
      else process.env.AWS_ENDPOINT_URL_FIREHOSE = saved;
      await server.close();
    }
  });
});

describe('packed records and the write-ahead log', () => {
  it('keeps a packed record in the log until every one of its events is in the lake', async () => {
    const walDir = join(root, `wal-${Math.random()}`);
    const { wal } = WriteAheadLog.open({ dir: walDir, segmentMaxAgeMs: 0 });
    const folder = new FolderStore(join(root, `lake-wal-${Math.random()}`));
    // A real folder lake that refuses one object: the event partitioned into minute 01.
    const store = new Proxy(folder, {
      get(target, prop, receiver) {
        if (prop === 'put') {
          return (key: string, ...rest: unknown[]) =>
            key.includes('/minute=01/')
              ? Promise.reject(new Error('refused'))
              : (target.put as unknown as (...a: unknown[]) => Promise<unknown>).call(target, key, ...rest);
        }
        return Reflect.get(target, prop, receiver);
      },
    }) as ObjectStore;
    const base = Date.UTC(2026, 10, 20, 12, 0);
    const stream = new DeliveryStream({
      config: { ...CONFIG, dynamicPartitioningRetrySeconds: 0 },
      store,
      journal: wal,
      log: () => {},
      transform: async (event): Promise<FirehoseTransformationResult> => ({
        records: event.records.map((r) => {
          const n = (JSON.parse(Buffer.from(r.data, 'base64').toString()) as { n: number }).n;
          return {
            recordId: r.recordId,
            result: 'Ok' as const,
            data: Buffer.from(`${Buffer.from(r.data, 'base64').toString()}\n`).toString('base64'),
            // Each event in a minute of its own: three objects, written one by one.
            metadata: { partitionKeys: partitionKeysAt('staging', base + n * 60_000) },
          };
        }),
      }),
    });
    stream.put([Buffer.from(`${event(0)}\n${event(1)}\n${event(2)}`)]);
    await stream.committed();
    await stream.flush();
    expect(stream.stats()).toMatchObject({ processorRecords: 3, dataObjects: 2, deliveryFailures: 1 });
    await wal.close();
    // Two of its three events reached the lake: the record stays in the log for the next start.
    expect(readdirSync(walDir)).not.toEqual([]);
    const { wal: again, recovered } = WriteAheadLog.open({ dir: walDir });
    expect(recovered.map((r) => r.data.toString())).toEqual([`${event(0)}\n${event(1)}\n${event(2)}`]);
    await again.close();
  });
});

describe('deaggregateJson', () => {
  it('skips whitespace and CRLF between objects and returns each object without it', () => {
    const out = deaggregateJson(Buffer.from(' {"a":1}\r\n\t{"a":"\\\\"}\n'));
    expect(out.ok && out.records.map(String)).toEqual(['{"a":1}', '{"a":"\\\\"}']);
  });

  it('does not split an empty record', () => {
    expect(deaggregateJson(Buffer.alloc(0)).ok).toBe(false);
    expect(deaggregateJson(Buffer.from('\n\n')).ok).toBe(false);
  });
});
