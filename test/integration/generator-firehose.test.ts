import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { firehoseClient } from '../../aws/firehose.js';
import { generateCommand } from '../../cli/generate.js';
import { firehoseSink, type GeneratorStats, generateRecords, runGenerator } from '../../generator/index.js';

// The Firehose sink against a FAKE Firehose: a small node:http server that speaks
// PutRecordBatch (awsJson 1.1) the way docs/firehose.md describes, enforces its limits, and fails
// chosen records with a per-record ServiceUnavailableException. The SDK client is the real one.

const STREAM = 'firelake-test-stream';
const MAX_RECORDS = 500;
const MAX_CALL_BYTES = 4 * 1024 * 1024;
const MAX_RECORD_BYTES = 1000 * 1024;

interface FakeFirehose {
  /** Decide per received record whether to fail it (called with the payload and its attempt). */
  failRecord: (payload: string, attempt: number) => boolean;
  /** Answer a whole call with HTTP 500 instead (called with the call's index). */
  failCall: (call: number) => boolean;
  accepted: Map<string, number>;
  received: Map<string, number>;
  failedAnswers: number;
  calls: number;
  largestCall: { records: number; bytes: number };
  maxConcurrent: number;
  /** Limit violations seen (must stay empty). */
  violations: string[];
}

let server: Server;
let fake: FakeFirehose;
let concurrent = 0;

function reset(): void {
  fake = {
    failRecord: () => false,
    failCall: () => false,
    accepted: new Map(),
    received: new Map(),
    failedAnswers: 0,
    calls: 0,
    largestCall: { records: 0, bytes: 0 },
    maxConcurrent: 0,
    violations: [],
  };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  concurrent++;
  fake.maxConcurrent = Math.max(fake.maxConcurrent, concurrent);
  try {
    // Hold the answer briefly so calls overlap, as they do against the real service.
    await new Promise((r) => setTimeout(r, 5));
    const call = fake.calls++;
    if (req.headers['x-amz-target'] !== 'Firehose_20150804.PutRecordBatch') {
      fake.violations.push(`target ${req.headers['x-amz-target']}`);
      return answer(res, 400, { __type: 'UnknownOperationException' });
    }
    if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
      fake.violations.push(`content-type ${req.headers['content-type']}`);
    }
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      DeliveryStreamName: string;
      Records: { Data: string }[];
    };
    if (body.DeliveryStreamName !== STREAM) {
      return answer(res, 400, {
        __type: 'ResourceNotFoundException',
        message: `Firehose ${body.DeliveryStreamName} under account 000000000000 not found.`,
      });
    }
    const payloads = body.Records.map((r) => Buffer.from(r.Data, 'base64'));
    const bytes = payloads.reduce((n, p) => n + p.length, 0);
    if (payloads.length === 0 || payloads.length > MAX_RECORDS)
      fake.violations.push(`${payloads.length} records`);
    if (bytes > MAX_CALL_BYTES) fake.violations.push(`${bytes} bytes in a call`);
    for (const p of payloads)
      if (p.length > MAX_RECORD_BYTES) fake.violations.push(`record of ${p.length} bytes`);
    if (fake.violations.length > 0) return answer(res, 400, { __type: 'InvalidArgumentException' });
    if (payloads.length > fake.largestCall.records) fake.largestCall.records = payloads.length;
    if (bytes > fake.largestCall.bytes) fake.largestCall.bytes = bytes;
    if (fake.failCall(call)) return answer(res, 500, { __type: 'InternalFailure', message: 'fake outage' });

    let failed = 0;
    const responses = payloads.map((p, i) => {
      const payload = p.toString('latin1');
      const attempt = (fake.received.get(payload) ?? 0) + 1;
      fake.received.set(payload, attempt);
      if (fake.failRecord(payload, attempt)) {
        failed++;
        return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      }
      fake.accepted.set(payload, (fake.accepted.get(payload) ?? 0) + 1);
      return { RecordId: `${call}-${i}` };
    });
    fake.failedAnswers += failed;
    answer(res, 200, { FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
  } finally {
    concurrent--;
  }
}

const savedEnv = { ...process.env };

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => answer(res, 500, { __type: 'InternalFailure', message: e.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // The client finds the fake the standard way, as it finds the local Firehose of `npm start`.
  process.env.AWS_ENDPOINT_URL_FIREHOSE = `http://127.0.0.1:${port}`;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});
afterAll(async () => {
  process.env = savedEnv;
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(reset);

/** A stable pseudo-random share of payloads (FNV-1a), so failures do not depend on timing. */
function hashShare(text: string, salt: number): number {
  let h = 0x811c9dc5 ^ salt;
  for (let i = 0; i < text.length; i += 7) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

// One event per record (--pack off) unless a test is about packing.
const fast = { baseDelayMs: 2, maxDelayMs: 50, packBytes: 0 };

describe('firehose sink', () => {
  it('delivers every record exactly once, resending only the records that failed', async () => {
    // A quarter of records fail once; a third of those fail a second time.
    fake.failRecord = (p, attempt) =>
      (attempt === 1 && hashShare(p, 1) < 0.25) || (attempt === 2 && hashShare(p, 2) < 0.33);
    const options = { seed: 11, start: Date.parse('2026-11-20T00:00:00Z'), maxRecords: 6000 };
    const sink = firehoseSink({ client: firehoseClient(), streamName: STREAM, maxInFlight: 4, ...fast });
    const stats = await runGenerator(options, sink);

    const expected = [...generateRecords(options)].map((r) => Buffer.from(r.data).toString('latin1'));
    expect(fake.violations).toEqual([]);
    expect(fake.accepted.size).toBe(expected.length);
    for (const payload of expected) expect(fake.accepted.get(payload)).toBe(1);
    // Every resend answered a failure: received = accepted + failed answers, record by record.
    const received = [...fake.received.values()].reduce((a, b) => a + b, 0);
    expect(received).toBe(expected.length + fake.failedAnswers);
    expect(fake.failedAnswers).toBeGreaterThan(1000);
    expect(stats.retried).toBe(fake.failedAnswers);
    expect(stats.undelivered).toBe(0);
    expect(stats.sink).toBe('firehose');
    expect(sink.counters().delivered).toBe(expected.length);
    expect(fake.largestCall.records).toBe(MAX_RECORDS);
    expect(fake.maxConcurrent).toBeLessThanOrEqual(4);
  });

  it('keeps every call within 500 records and 4 MiB, and refuses records over 1,000 KiB', async () => {
    const sink = firehoseSink({ client: firehoseClient(), streamName: STREAM, ...fast });
    const big = (i: number, kib: number) => `{"n":${i},"pad":"${'x'.repeat(kib * 1024 - 20)}"}`;
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      sent.push(big(i, 900));
      await sink.write(sent.at(-1)!);
    }
    await sink.write(big(100, 1001));
    await sink.write(big(101, 1200));
    for (let i = 0; i < 1200; i++) {
      sent.push(`{"n":${i + 1000}}`);
      await sink.write(sent.at(-1)!);
    }
    const counters = await sink.close();
    expect(fake.violations).toEqual([]);
    expect(counters).toMatchObject({ delivered: sent.length, undelivered: 2, refused: 2, retried: 0 });
    expect(counters.firehoseRecords).toBe(sent.length);
    expect(fake.accepted.size).toBe(sent.length);
    expect(fake.largestCall.bytes).toBeLessThanOrEqual(MAX_CALL_BYTES);
    expect(fake.largestCall.bytes).toBeGreaterThan(3 * 900 * 1024);
  });

  it('gives a record up after its last attempt and counts it undelivered', async () => {
    const doomed = '{"doomed":true}';
    fake.failRecord = (p) => p === doomed;
    const sink = firehoseSink({ client: firehoseClient(), streamName: STREAM, maxAttempts: 3, ...fast });
    for (const r of ['{"a":1}', doomed, '{"b":2}']) await sink.write(r);
    const counters = await sink.close();
    expect(fake.received.get(doomed)).toBe(3);
    expect(fake.accepted.has(doomed)).toBe(false);
    expect(counters).toMatchObject({ delivered: 2, undelivered: 1, refused: 0, retried: 2 });
  });

  it('resends a whole call after server errors, and each record is still accepted once', async () => {
    fake.failCall = (call) => call < 6;
    const options = { seed: 12, start: 0, maxRecords: 1500 };
    // maxAttempts 1 on the client: the sink's own backoff does the resending here.
    const sink = firehoseSink({ client: firehoseClient({ maxAttempts: 1 }), streamName: STREAM, ...fast });
    const stats = await runGenerator(options, sink);
    expect(fake.accepted.size).toBe(1500);
    expect([...fake.accepted.values()].every((n) => n === 1)).toBe(true);
    expect(stats.retried).toBeGreaterThan(0);
    expect(stats.undelivered).toBe(0);
  });

  it('stops with a clear error when the stream does not exist', async () => {
    const sink = firehoseSink({ client: firehoseClient(), streamName: 'no-such-stream', ...fast });
    await expect(runGenerator({ seed: 1, start: 0, maxRecords: 2000 }, sink)).rejects.toThrow(
      /Firehose stream no-such-stream: Firehose no-such-stream under account 000000000000 not found/,
    );
  });
});

describe('firehose sink, packed', () => {
  it('packs events into newline-delimited records of at most 5,120 bytes, each event delivered once', async () => {
    // Every tenth record fails once: a failed record resends all of its events together.
    fake.failRecord = (p, attempt) => attempt === 1 && hashShare(p, 4) < 0.1;
    const options = { seed: 13, start: Date.parse('2026-11-20T00:00:00Z'), maxRecords: 5000, badRate: 0.05 };
    const sink = firehoseSink({
      client: firehoseClient(),
      streamName: STREAM,
      baseDelayMs: 2,
      maxDelayMs: 50,
    });
    const stats = await runGenerator(options, sink);
    const lines = [...generateRecords(options)].map((r) => Buffer.from(r.data).toString('latin1'));
    const sentLines = lines.filter((l) => l.length <= MAX_RECORD_BYTES);
    expect(fake.violations).toEqual([]);
    const records = [...fake.accepted.keys()];
    // Each event exactly once across the records (duplicates from the generator are distinct lines
    // only in position, so count occurrences).
    const got = records.flatMap((r) => (r.startsWith('{') && r.endsWith('}') ? r.split('\n') : [r]));
    expect(got.sort()).toEqual([...sentLines].sort());
    expect(records.every((r) => r.length <= 5120 || !r.includes('\n'))).toBe(true);
    expect(records.every((r) => r.split('\n').length <= 500)).toBe(true);
    // Bad lines that would not deaggregate (not JSON, not UTF-8) travel alone.
    for (const r of records.filter((x) => x.includes('\n'))) {
      for (const line of r.split('\n'))
        expect(() => JSON.parse(Buffer.from(line, 'latin1').toString())).not.toThrow();
    }
    expect(stats.records).toBe(5000);
    expect(stats.undelivered).toBe(stats.bad_by_kind.oversized);
    expect(stats.firehose_records).toBe(records.length);
    expect(stats.firehose_records!).toBeLessThan(stats.records / 8);
    expect(stats.retried).toBeGreaterThan(0);
  });

  it('never puts a resend in the same call as its original (the call gives both one arrival time)', async () => {
    const calls: string[][] = [];
    const stub = {
      send: async (command: { input: { Records: { Data: Uint8Array }[] } }) => {
        calls.push(command.input.Records.map((r) => Buffer.from(r.Data).toString()));
        return { FailedPutCount: 0, RequestResponses: command.input.Records.map(() => ({ RecordId: 'x' })) };
      },
    } as unknown as Parameters<typeof firehoseSink>[0]['client'];
    const options = {
      seed: 14,
      start: Date.parse('2026-11-20T00:00:00Z'),
      maxRecords: 20_000,
      duplicateRate: 0.02,
    };
    const stats = await runGenerator(
      options,
      firehoseSink({ client: stub, streamName: STREAM, lingerMs: 0 }),
    );
    expect(stats.duplicates).toBeGreaterThan(300);
    let events = 0;
    for (const call of calls) {
      const uuids = call
        .flatMap((r) => r.split('\n'))
        .flatMap((line) => {
          try {
            return [(JSON.parse(line) as { event_uuid?: string }).event_uuid ?? ''];
          } catch {
            return [];
          }
        });
      events += uuids.length;
      const valid = uuids.filter((u) => u !== '');
      expect(new Set(valid).size, 'a uuid twice in one call').toBe(valid.length);
    }
    expect(events).toBeGreaterThan(19_000);
    // Still packed: a cut call costs a partial record, not the packing.
    expect(stats.firehose_records!).toBeLessThan(stats.records / 8);
  });
});

describe('firelake generate to Firehose', () => {
  it('sends to the --stream, resends failed records, and reports the same counts in --stats and --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firelake-generate-firehose-'));
    const statsFile = join(dir, 'stats.json');
    fake.failRecord = (p, attempt) => attempt === 1 && hashShare(p, 3) < 0.1;
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => printed.push(line));
    const progress = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await generateCommand.parseAsync(
        [
          '--fast',
          '--count',
          '3000',
          '--bad-rate',
          '0.01',
          '--stream',
          STREAM,
          '--pack',
          'off',
          '--stats',
          statsFile,
          '--json',
        ],
        { from: 'user' },
      );
    } finally {
      log.mockRestore();
      progress.mockRestore();
    }
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as GeneratorStats;
    rmSync(dir, { recursive: true, force: true });
    expect(JSON.parse(printed.join(''))).toMatchObject(stats);
    expect(stats.sink).toBe('firehose');
    expect(stats.records).toBe(3000);
    expect(stats.retried).toBe(fake.failedAnswers);
    expect(stats.retried).toBeGreaterThan(100);
    // Everything but the oversized records (refused before sending) was accepted, once.
    expect(stats.undelivered).toBe(stats.bad_by_kind.oversized);
    expect(fake.accepted.size + stats.duplicates).toBe(3000 - stats.undelivered);
    expect(process.exitCode ?? 0).toBe(0);
  });
});
