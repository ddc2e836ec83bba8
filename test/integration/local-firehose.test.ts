import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeliveryStreamConfig, LOCAL_DELIVERY } from '../../lake/delivery.js';
import { FolderStore } from '../../lake/folder-store.js';
import { partitionKeysAt } from '../../lake/layout.js';
import { listAll } from '../../lake/store.js';
import { type DeliveredObject, DeliveryStream, type TransformFunction } from '../../local/delivery-stream.js';
import { readLines } from '../support/lake-read.js';

// The local delivery stream against test handlers (the real transform is exercised by the
// end-to-end tests): recordId accounting, retries, processing-failed objects, buffering.

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'firelake-firehose-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function newStore(): FolderStore {
  return new FolderStore(join(root, `lake-${++n}`));
}

// Test config: the shared stream with buffers too long to fire on their own, so a test decides
// when things flush unless it is about intervals.
const CONFIG: DeliveryStreamConfig = {
  ...LOCAL_DELIVERY,
  buffering: { sizeMiB: 64, intervalSeconds: 600 },
  processor: { ...LOCAL_DELIVERY.processor, bufferIntervalSeconds: 600 },
  dynamicPartitioningRetrySeconds: 0,
};

/** A well-behaved transform: each JSON record Ok, partitioned as staging by its `at` (epoch ms). */
const okResult = (event: FirehoseTransformationEvent): FirehoseTransformationResult => ({
  records: event.records.map((r) => {
    const value = JSON.parse(Buffer.from(r.data, 'base64').toString()) as { at: number };
    return {
      recordId: r.recordId,
      result: 'Ok' as const,
      data: Buffer.from(`${JSON.stringify(value)}\n`).toString('base64'),
      metadata: { partitionKeys: partitionKeysAt('staging', value.at) },
    };
  }),
});
const wellBehaved: TransformFunction = async (event) => okResult(event);

function makeStream(
  transform: TransformFunction,
  config: Partial<DeliveryStreamConfig> = {},
  extra: { maxBacklogBytes?: number; maxActivePartitions?: number } = {},
) {
  const store = newStore();
  const objects: DeliveredObject[] = [];
  const events: FirehoseTransformationEvent[] = [];
  const stream = new DeliveryStream({
    config: { ...CONFIG, ...config },
    store,
    transform: (event) => {
      events.push(structuredClone(event));
      return transform(event);
    },
    retryDelayMs: () => 0,
    onObject: (o) => objects.push(o),
    ...extra,
  });
  return { stream, store, objects, events };
}

const AT = Date.UTC(2026, 10, 20, 10, 30, 15);
const records = (count: number, at = AT) =>
  Array.from({ length: count }, (_, i) => Buffer.from(JSON.stringify({ i, at })));

describe('local delivery stream', () => {
  it('invokes the transform with a genuine Firehose event and lands Ok records in their partition', async () => {
    const { stream, store, events } = makeStream(wellBehaved);
    const before = Date.now();
    const results = stream.put(records(3));
    expect(results.every((r) => 'RecordId' in r)).toBe(true);
    await stream.flush();

    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.deliveryStreamArn).toBe(
      `arn:aws:firehose:us-east-1:000000000000:deliverystream/${CONFIG.streamName}`,
    );
    expect(event.region).toBe('us-east-1');
    expect(event.records.map((r) => r.recordId)).toEqual(
      results.map((r) => ('RecordId' in r ? r.RecordId : '')),
    );
    expect(event.records[0]!.approximateArrivalTimestamp).toBeGreaterThanOrEqual(before);
    expect(JSON.parse(Buffer.from(event.records[2]!.data, 'base64').toString())).toEqual({ i: 2, at: AT });

    const keys = (await listAll(store, '')).map((o) => o.key);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(
      /^staging\/year=2026\/month=11\/day=20\/hour=10\/minute=30\/firelake-events-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$/,
    );
    const lines = await readLines(store, 'staging/');
    expect(lines.map((l) => l.value.i)).toEqual([0, 1, 2]);
  });

  it('puts records of different partition keys in different objects', async () => {
    const { stream, store } = makeStream(wellBehaved);
    stream.put([...records(2, AT), ...records(1, AT + 60_000), ...records(1, AT + 3_600_000)]);
    await stream.flush();
    const keys = (await listAll(store, 'staging/')).map((o) => o.key.replace(/firelake-events-.*$/, ''));
    expect(keys).toEqual([
      'staging/year=2026/month=11/day=20/hour=10/minute=30/',
      'staging/year=2026/month=11/day=20/hour=10/minute=31/',
      'staging/year=2026/month=11/day=20/hour=11/minute=30/',
    ]);
  });

  it('drops Dropped records without a trace and sends ProcessingFailed ones to the error prefix', async () => {
    const transform: TransformFunction = async (event) => {
      const ok = okResult(event);
      ok.records[0]!.result = 'Dropped';
      ok.records[1]!.result = 'ProcessingFailed';
      return ok;
    };
    const { stream, store } = makeStream(transform);
    stream.put(records(3));
    await stream.flush();
    expect((await readLines(store, 'staging/')).map((l) => l.value.i)).toEqual([2]);
    const errors = await readLines(store, 'errors/');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.key).toMatch(
      /^errors\/processing-failed\/year=\d{4}\/month=\d{2}\/day=\d{2}\/firelake-events-1-/,
    );
    expect(errors[0]!.value).toMatchObject({ errorCode: 'Lambda.ProcessingFailedStatus', attemptsMade: 1 });
    const raw = Buffer.from(errors[0]!.value.rawData as string, 'base64').toString();
    expect(JSON.parse(raw)).toEqual({ i: 1, at: AT });
    expect(stream.stats()).toMatchObject({ okRecords: 1, droppedRecords: 1, failedRecords: 1 });
  });

  const misbehaving: [string, string, (r: FirehoseTransformationResult) => void][] = [
    ['omits a recordId', 'Lambda.MissingRecordId', (r) => r.records.pop()],
    ['repeats a recordId', 'Lambda.DuplicatedRecordId', (r) => r.records.push({ ...r.records[0]! })],
    ['garbles a recordId', 'Lambda.MissingRecordId', (r) => (r.records[1]!.recordId = 'garbled')],
    [
      'returns an unknown result',
      'Lambda.JsonProcessingException',
      (r) => ((r.records[0] as { result: string }).result = 'Fine'),
    ],
    [
      'returns data that is not base64',
      'Lambda.JsonProcessingException',
      (r) => (r.records[0]!.data = '{not b64}'),
    ],
  ];

  it.each(misbehaving)(
    'fails the batch when the handler %s, retries it, then writes every record to processing-failed',
    async (_what, errorCode, spoil) => {
      const transform: TransformFunction = async (event) => {
        const result = okResult(event);
        spoil(result);
        return result;
      };
      const { stream, store, events } = makeStream(transform);
      stream.put(records(3));
      await stream.flush();
      expect(events).toHaveLength(CONFIG.processor.retries + 1);
      // The same records (and recordIds) are retried: the transform's dedup relies on it.
      expect(new Set(events.map((e) => e.records.map((r) => r.recordId).join()))).toHaveLength(1);
      expect(new Set(events.map((e) => e.invocationId))).toHaveLength(events.length);
      expect(await listAll(store, 'staging/')).toEqual([]);
      const errors = await readLines(store, 'errors/processing-failed/');
      expect(errors.map((e) => e.value.errorCode)).toEqual([errorCode, errorCode, errorCode]);
      expect(errors.map((e) => e.value.attemptsMade)).toEqual([4, 4, 4]);
    },
  );

  it('fails the batch when the handler answers something that is not a result', async () => {
    const { stream, store } = makeStream(async () => 'oops' as unknown as FirehoseTransformationResult);
    stream.put(records(1));
    await stream.flush();
    const errors = await readLines(store, 'errors/processing-failed/');
    expect(errors.map((e) => e.value.errorCode)).toEqual(['Lambda.JsonProcessingException']);
  });

  it('retries a handler that throws twice, then succeeds, and delivers every record once', async () => {
    let calls = 0;
    const { stream, store } = makeStream(async (event) => {
      calls++;
      if (calls <= 2) throw new Error('DynamoDB throttled');
      return okResult(event);
    });
    stream.put(records(5));
    await stream.flush();
    expect(calls).toBe(3);
    expect((await readLines(store, 'staging/')).map((l) => l.value.i)).toEqual([0, 1, 2, 3, 4]);
    expect(await listAll(store, 'errors/')).toEqual([]);
    expect(stream.stats()).toMatchObject({ invocations: 3, failedInvocations: 2, okRecords: 5 });
  });

  it('routes an answer once: a failure while routing is no failed invocation to retry', async () => {
    // A log whose first settle fails: the routing of the first answer throws half way.
    const settled: number[] = [];
    let settles = 0;
    const journal = {
      append: () => ({ tag: 7, first: 0 }),
      commit: async () => {},
      retain: () => {},
      settle: (tags: readonly number[]) => {
        if (settles++ === 0) throw new Error('settle failed');
        settled.push(...tags);
      },
    };
    const lines: string[] = [];
    const dropAll: TransformFunction = async (event) => ({
      records: event.records.map((r) => ({ recordId: r.recordId, result: 'Dropped' as const })),
    });
    const stream = new DeliveryStream({
      config: CONFIG,
      store: newStore(),
      transform: dropAll,
      journal,
      retryDelayMs: () => 0,
      log: (line) => lines.push(line),
    });
    stream.put(records(3));
    await stream.flush();
    expect(stream.stats()).toMatchObject({ invocations: 1, failedInvocations: 0, backlogBytes: 0 });
    // Routed once: the routing stopped at the failure and was not run again, so no record was
    // settled (they stay in the log, for the next start).
    expect(settles).toBe(1);
    expect(settled).toEqual([]);
    expect(lines.some((l) => l.includes('batch lost: settle failed'))).toBe(true);
  });

  it('writes every record of an always-failing handler to processing-failed with its raw data', async () => {
    const { stream, store } = makeStream(async () => {
      throw new Error('boom');
    });
    const input = [
      Buffer.from('{"not":"json'),
      Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      Buffer.from('{"ok":1}'),
    ];
    const before = Date.now();
    stream.put(input);
    await stream.flush();
    const errors = await readLines<Record<string, unknown>>(store, 'errors/processing-failed/');
    expect(errors.map((e) => Buffer.from(e.value.rawData as string, 'base64'))).toEqual(input);
    for (const { value } of errors) {
      expect(Object.keys(value).sort()).toEqual(
        [
          'attemptsMade',
          'arrivalTimestamp',
          'errorCode',
          'errorMessage',
          'attemptEndingTimestamp',
          'rawData',
          'lambdaArn',
        ].sort(),
      );
      expect(value).toMatchObject({
        attemptsMade: 4,
        errorCode: 'Lambda.FunctionError',
        errorMessage: 'boom',
        lambdaArn: 'arn:aws:lambda:us-east-1:000000000000:function:firelake-transform',
      });
      expect(value.arrivalTimestamp as number).toBeGreaterThanOrEqual(before);
      expect(value.attemptEndingTimestamp as number).toBeGreaterThanOrEqual(value.arrivalTimestamp as number);
    }
  });

  it('sends records without their partition keys to partitioning-failed', async () => {
    const { stream, store } = makeStream(async (event) => {
      const result = okResult(event);
      delete result.records[0]!.metadata;
      return result;
    });
    stream.put(records(2));
    await stream.flush();
    expect((await readLines(store, 'staging/')).map((l) => l.value.i)).toEqual([1]);
    const failed = await readLines(store, 'errors/partitioning-failed/');
    expect(failed).toHaveLength(1);
    expect(JSON.parse(Buffer.from(failed[0]!.value.rawData as string, 'base64').toString())).toEqual({
      i: 0,
      at: AT,
    });
  });

  it('sends records past the active-partition limit to partitioning-failed', async () => {
    const { stream, store } = makeStream(wellBehaved, {}, { maxActivePartitions: 2 });
    stream.put([...records(2, AT), ...records(1, AT + 60_000), ...records(3, AT + 120_000)]);
    await stream.flush();
    expect(await readLines(store, 'staging/')).toHaveLength(3);
    const failed = await readLines(store, 'errors/partitioning-failed/');
    expect(failed.map((f) => f.value.errorCode)).toEqual(
      Array(3).fill('DynamicPartitioning.PartitionCountExceeded'),
    );
  });

  it('cuts processor batches by the processor buffer size', async () => {
    const { stream, events } = makeStream(wellBehaved, {
      processor: { bufferSizeMiB: 0.2, bufferIntervalSeconds: 600, retries: 3 },
    });
    // 100 records of ~10 KiB: 1 MB in all, 0.2 MiB per invocation -> 5 invocations before flush.
    const big = Array.from({ length: 100 }, (_, i) =>
      Buffer.from(JSON.stringify({ i, at: AT, pad: 'x'.repeat(10_000) })),
    );
    stream.put(big);
    await stream.flush();
    expect(events.length).toBeGreaterThanOrEqual(5);
    for (const e of events) {
      const bytes = e.records.reduce((s, r) => s + Buffer.from(r.data, 'base64').length, 0);
      expect(bytes).toBeLessThan(0.2 * 1024 * 1024 + 11_000);
    }
    expect(events.flatMap((e) => e.records).length).toBe(100);
  });

  it('keeps every invocation under the 6 MB request limit', async () => {
    const { stream, events } = makeStream(wellBehaved, {
      processor: { bufferSizeMiB: 3, bufferIntervalSeconds: 600, retries: 3 },
    });
    // 3 MiB of raw data is 4 MiB of base64: fine; records near 1,000 KiB push the cut earlier.
    const big = Array.from({ length: 8 }, (_, i) =>
      Buffer.from(JSON.stringify({ i, at: AT, pad: 'x'.repeat(900 * 1024) })),
    );
    stream.put(big);
    await stream.flush();
    for (const e of events) expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThanOrEqual(6 * 1024 * 1024);
    expect(events.flatMap((e) => e.records).length).toBe(8);
  });

  it('flushes a partition by size as soon as its buffer is full', async () => {
    const { stream, objects } = makeStream(wellBehaved, {
      buffering: { sizeMiB: 0.05, intervalSeconds: 600 },
      processor: { bufferSizeMiB: 1, bufferIntervalSeconds: 0, retries: 3 },
    });
    const big = Array.from({ length: 40 }, (_, i) =>
      Buffer.from(JSON.stringify({ i, at: AT, pad: 'y'.repeat(5_000) })),
    );
    stream.put(big);
    // Wait for the processor without flushing partitions: full ones must already be written.
    await waitFor(() => stream.stats().okRecords === 40);
    await waitFor(() => objects.length >= 3);
    expect(objects.every((o) => o.records < 40)).toBe(true);
    await stream.flush();
    expect(objects.reduce((s, o) => s + o.records, 0)).toBe(40);
  });

  it('flushes the processor buffer and a partition by their intervals, without flush()', async () => {
    const { stream, store, objects } = makeStream(wellBehaved, {
      buffering: { sizeMiB: 64, intervalSeconds: 1 },
      processor: { bufferSizeMiB: 1, bufferIntervalSeconds: 0.2, retries: 3 },
    });
    stream.put(records(3));
    await waitFor(() => objects.length === 1, 10_000);
    expect(objects[0]!.records).toBe(3);
    expect(await readLines(store, 'staging/')).toHaveLength(3);
  });

  it('answers Slow down. per record when the backlog is full, and accepts again once it drains', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { stream, store } = makeStream(
      async (event) => {
        await gate;
        return okResult(event);
      },
      { processor: { bufferSizeMiB: 1, bufferIntervalSeconds: 0, retries: 3 } },
      { maxBacklogBytes: 1000 },
    );
    const first = stream.put(records(100));
    const refused = first.filter((r) => 'ErrorCode' in r);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toEqual({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
    const accepted = first.length - refused.length;
    release();
    await stream.flush();
    expect(stream.put(records(1)).every((r) => 'RecordId' in r)).toBe(true);
    await stream.flush();
    expect(await readLines(store, 'staging/')).toHaveLength(accepted + 1);
    expect(stream.stats().backlogBytes).toBe(0);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
