import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FirehoseClient,
  InvalidArgumentException,
  ListDeliveryStreamsCommand,
  type ListDeliveryStreamsCommandInput,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-firehose';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firehoseClient } from '../../aws/firehose.js';
import { LOCAL_DELIVERY } from '../../lake/delivery.js';
import { FolderStore } from '../../lake/folder-store.js';
import { partitionKeysAt } from '../../lake/layout.js';
import { DeliveryStream } from '../../local/delivery-stream.js';
import { type FirehoseServer, startFirehoseServer } from '../../local/firehose-server.js';
import { readLines } from '../support/lake-read.js';
import { postDeclaredBody } from '../support/oversized.js';

// The local endpoint through the real @aws-sdk/client-firehose, pointed at it only by the SDK's
// own AWS_ENDPOINT_URL_FIREHOSE variable, as any producer would be.

let dir: string;
let store: FolderStore;
let server: FirehoseServer;
let stream: DeliveryStream;
let throttled: DeliveryStream;
let client: FirehoseClient;
let release: () => void = () => {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'firelake-endpoint-'));
  store = new FolderStore(join(dir, 'lake'));
  const transform = async (event: FirehoseTransformationEvent) => ({
    records: event.records.map((r) => ({
      recordId: r.recordId,
      result: 'Ok' as const,
      data: Buffer.from(`${Buffer.from(r.data, 'base64').toString()}\n`).toString('base64'),
      metadata: { partitionKeys: partitionKeysAt('staging', r.approximateArrivalTimestamp) },
    })),
  });
  stream = new DeliveryStream({ config: LOCAL_DELIVERY, store, transform });
  // A second stream whose transform never answers until released: its backlog fills up.
  const gate = new Promise<void>((r) => {
    release = r;
  });
  throttled = new DeliveryStream({
    config: { ...LOCAL_DELIVERY, streamName: 'slow-stream' },
    store: new FolderStore(join(dir, 'slow')),
    transform: async (event) => {
      await gate;
      return transform(event);
    },
    maxBacklogBytes: 10_000,
  });
  server = await startFirehoseServer({ streams: [stream, throttled] });
  process.env.AWS_ENDPOINT_URL_FIREHOSE = server.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  client = firehoseClient({ region: 'us-east-1', maxAttempts: 1 });
});

afterAll(async () => {
  release();
  await stream.close();
  await throttled.close();
  client.destroy();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const data = (text: string) => ({ Data: Buffer.from(text) });

describe('local Firehose endpoint', () => {
  it('takes PutRecordBatch from the AWS SDK and delivers the records to the lake', async () => {
    const out = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: LOCAL_DELIVERY.streamName,
        Records: Array.from({ length: 500 }, (_, i) => data(`{"n":${i}}`)),
      }),
    );
    expect(out.FailedPutCount).toBe(0);
    expect(out.Encrypted).toBe(false);
    expect(out.RequestResponses).toHaveLength(500);
    expect(new Set(out.RequestResponses!.map((r) => r.RecordId)).size).toBe(500);
    await stream.flush();
    const lines = await readLines(store, 'staging/');
    expect(lines.map((l) => l.value.n)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('takes PutRecord', async () => {
    const out = await client.send(
      new PutRecordCommand({
        DeliveryStreamName: LOCAL_DELIVERY.streamName,
        Record: data('{"single":true}'),
      }),
    );
    expect(out.RecordId).toMatch(/^\d{56}$/);
  });

  it('lists its delivery streams', async () => {
    const out = await client.send(new ListDeliveryStreamsCommand({}));
    expect(out.DeliveryStreamNames).toEqual([LOCAL_DELIVERY.streamName, 'slow-stream']);
    expect(out.HasMoreDeliveryStreams).toBe(false);
  });

  it('lists them as Firehose does: by type, after a start name, a page at a time', async () => {
    const list = (input: ListDeliveryStreamsCommandInput) =>
      client.send(new ListDeliveryStreamsCommand(input));
    // Every local stream takes direct puts; none reads a Kinesis stream.
    expect((await list({ DeliveryStreamType: 'KinesisStreamAsSource' })).DeliveryStreamNames).toEqual([]);
    expect((await list({ DeliveryStreamType: 'DirectPut' })).DeliveryStreamNames).toHaveLength(2);
    expect(
      (await list({ ExclusiveStartDeliveryStreamName: LOCAL_DELIVERY.streamName })).DeliveryStreamNames,
    ).toEqual(['slow-stream']);
    expect(await list({ Limit: 1 })).toMatchObject({
      DeliveryStreamNames: [LOCAL_DELIVERY.streamName],
      HasMoreDeliveryStreams: true,
    });
    await expect(list({ DeliveryStreamType: 'Nope' as 'DirectPut' })).rejects.toThrow(
      /at 'deliveryStreamType' failed to satisfy constraint: Member must satisfy enum value set/,
    );
    await expect(list({ Limit: 0 })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('answers ResourceNotFoundException for an unknown stream', async () => {
    const call = client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'nope', Records: [data('x')] }));
    await expect(call).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(call).rejects.toThrow(/Firehose nope under account \d+ not found/);
  });

  it('refuses more than 500 records in one call', async () => {
    const call = client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: LOCAL_DELIVERY.streamName,
        Records: Array.from({ length: 501 }, () => data('x')),
      }),
    );
    await expect(call).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    // Firehose's wording: the list as its Java validator prints it, then the constraint.
    await expect(call).rejects.toThrow(
      /^1 validation error detected: Value '\[com\.amazonaws\.firehose\.v20150804\.Record@[0-9a-f]+, .*\]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500$/,
    );
  });

  it('refuses a record over 1,000 KiB', async () => {
    const call = client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: LOCAL_DELIVERY.streamName,
        Records: [data('x'), { Data: Buffer.alloc(1000 * 1024 + 1, 97) }],
      }),
    );
    await expect(call).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(call).rejects.toThrow(/records\.2\.member\.data/);
  });

  it('refuses a call over 4 MiB in all', async () => {
    const call = client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: LOCAL_DELIVERY.streamName,
        Records: Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(900 * 1024, 98) })),
      }),
    );
    await expect(call).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(call).rejects.toThrow(/^Records size exceeds 4 MB limit$/);
  });

  it('answers per-record ServiceUnavailableException "Slow down." with HTTP 200 when the backlog is full', async () => {
    const out = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'slow-stream',
        Records: Array.from({ length: 100 }, (_, i) => data(`{"n":${i},"pad":"${'p'.repeat(200)}"}`)),
      }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.FailedPutCount).toBeGreaterThan(0);
    expect(out.FailedPutCount).toBeLessThan(100);
    const failed = out.RequestResponses!.filter((r) => r.ErrorCode);
    expect(failed).toHaveLength(out.FailedPutCount!);
    expect(failed[0]).toEqual({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
    // Order is the request's: the accepted ones come first, then every later one is refused.
    const firstFailed = out.RequestResponses!.findIndex((r) => r.ErrorCode);
    expect(out.RequestResponses!.slice(firstFailed).every((r) => r.ErrorCode)).toBe(true);

    const single = client.send(
      new PutRecordCommand({ DeliveryStreamName: 'slow-stream', Record: data('q'.repeat(300)) }),
    );
    await expect(single).rejects.toBeInstanceOf(ServiceUnavailableException);
  });

  it('answers a request without a known X-Amz-Target with a JSON error', async () => {
    const res = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Firehose_20150804.DeleteDeliveryStream',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    // A Firehose operation this endpoint does not run names itself; an unknown one is unknown.
    expect(await res.json()).toMatchObject({
      __type: 'InvalidArgumentException',
      message: expect.stringMatching(/^DeleteDeliveryStream is not supported by the local Firehose/),
    });
    const unknown = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'Firehose_20150804.Frobnicate' },
      body: '{}',
    });
    expect(await unknown.json()).toMatchObject({
      __type: 'UnknownOperationException',
      message: expect.stringMatching(/^Frobnicate is not supported/),
    });
    const bad = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'Firehose_20150804.PutRecordBatch' },
      body: '{"DeliveryStreamName": ',
    });
    expect(await bad.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('answers 413 to clients still sending oversized bodies, once it has read and dropped them', async () => {
    // Answered with the body unread, the connection was reset on close: some clients got EPIPE.
    const statuses = await Promise.all(
      Array.from({ length: 4 }, () => postDeclaredBody(server.endpoint, 12)),
    );
    expect(statuses).toEqual([413, 413, 413, 413]);
    // Nothing of them reached the stream, and it still takes records.
    const out = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: stream.name, Records: [data('{"after":"413"}')] }),
    );
    expect(out.FailedPutCount).toBe(0);
  });

  it('cuts the connection of an oversized body that stops arriving', async () => {
    const patient = await startFirehoseServer({ streams: [], refusedBodyDrainMs: 300 });
    try {
      const url = new URL(patient.endpoint);
      const socket = connect(Number(url.port), url.hostname);
      const closed = new Promise<number>((resolve) => {
        const at = Date.now();
        socket.on('error', () => {});
        socket.once('close', () => resolve(Date.now() - at));
      });
      // 60 MB declared, 9 MB sent (past the 8 MiB limit), then nothing more.
      socket.write(
        'POST / HTTP/1.1\r\nhost: local\r\nx-amz-target: Firehose_20150804.PutRecordBatch\r\n' +
          `content-length: ${60 * 1024 * 1024}\r\n\r\n`,
      );
      socket.write(Buffer.alloc(9 * 1024 * 1024, 'a'));
      // Read for the drain time, then cut: neither at once nor never.
      const ms = await closed;
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(5_000);
    } finally {
      await patient.close();
    }
  });
});
