import { randomUUID } from 'node:crypto';
import { BatchGetItemCommand, type BatchGetItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DedupConsistencyError } from '../../transform/dedup.js';
import { type DynamoSender, DynamoUnavailableError } from '../../transform/dynamo.js';
import { countingSink } from '../../transform/metrics.js';
import { createTransform } from '../../transform/transform.js';
import {
  batch,
  type Ev,
  failingAfter,
  game,
  lesson,
  outputs,
  quarantined,
  record,
  staged,
  subscription,
  T0,
  testConfig,
  useLocalDynamo,
  user,
} from '../transform-fixtures.js';

const dynamo = useLocalDynamo();

function transform(options: { client?: DynamoSender; now?: number } = {}) {
  const metrics = countingSink();
  const run = createTransform({
    dynamodb: options.client ?? dynamo.client,
    config: testConfig(),
    metrics,
    now: () => options.now ?? T0 + 10_000,
  });
  return { run, metrics };
}

function mixedBatch(n: number, arrivalMs = T0) {
  const u = randomUUID();
  const events: Ev[] = [user(u, arrivalMs - 9000), subscription(u, 'it', arrivalMs - 8000)];
  for (let i = events.length; i < n; i++)
    events.push(i % 2 ? lesson(u, 'it', arrivalMs - 5000 + i) : game(u, arrivalMs - 5000 + i));
  return events.map((e) => record(e, arrivalMs));
}

describe('dedup', () => {
  it('turns a duplicate in a later batch into a thin tombstone pointing at the kept record', async () => {
    const { run, metrics } = transform();
    const original = record(game(randomUUID(), T0 - 1000), T0);
    await run(batch([original]));
    // The client sends the same event again: a new record, arriving later.
    const resend = record(JSON.parse(Buffer.from(original.data, 'base64').toString()), T0 + 3000);
    const [tombstone] = quarantined(outputs(await run(batch([resend]))));
    expect(tombstone).toEqual({
      reason: 'duplicate',
      received_at: new Date(T0 + 3000).toISOString(),
      record_id: resend.recordId,
      event_uuid: expect.any(String),
      event_name: 'game:completed',
      created_at: new Date(T0 - 1000).toISOString(),
      errors: [],
      payload: null,
      payload_base64: null,
      first_record_id: original.recordId,
    });
    expect(metrics.totals.duplicates).toBe(1);
  });

  it('treats a resend with its keys in another order as a duplicate, not a conflict', async () => {
    const { run } = transform();
    const event = game(randomUUID(), T0);
    await run(batch([record(event)]));
    const reordered = `{"event_specifics":${JSON.stringify(Object.fromEntries(Object.entries(event.event_specifics).reverse()))},"event_name":"${event.event_name}","created_at":${event.created_at},"event_uuid":"${event.event_uuid}"}`;
    const out = quarantined(outputs(await run(batch([record(reordered, T0 + 1)]))));
    expect(out.map((q) => q.reason)).toEqual(['duplicate']);
  });

  it('keeps the first of two copies in one batch and tombstones the other', async () => {
    const { run } = transform();
    const event = lesson(randomUUID(), 'de', T0);
    const first = record(event, T0);
    const second = record(event, T0 + 5);
    const out = outputs(await run(batch([first, second])));
    expect(out.map((o) => o.dataset)).toEqual(['staging', 'quarantine']);
    expect(out[1]!.line).toMatchObject({ reason: 'duplicate', first_record_id: first.recordId });
  });

  it('quarantines the same uuid with another payload as uuid_conflict, with the payload, in a batch and across batches', async () => {
    const { run, metrics } = transform();
    const event = game(randomUUID(), T0);
    const kept = record(event);
    const inBatch = record({ ...event, event_specifics: { ...event.event_specifics, score: 1 } });
    const later = record({ ...event, event_specifics: { ...event.event_specifics, score: 2 } }, T0 + 1000);
    const first = outputs(await run(batch([kept, inBatch])));
    const second = outputs(await run(batch([later])));
    expect(first[0]!.dataset).toBe('staging');
    for (const [o, score] of [
      [first[1]!, 1],
      [second[0]!, 2],
    ] as const) {
      expect(o.line).toMatchObject({ reason: 'uuid_conflict', first_record_id: kept.recordId });
      expect(JSON.parse((o.line as { payload: string }).payload).event_specifics.score).toBe(score);
    }
    expect(metrics.totals.conflicts).toBe(2);
  });

  it('stages every event again when Firehose retries a whole batch, dropping none as duplicate', async () => {
    const records = mixedBatch(40);
    const { run, metrics } = transform();
    const first = outputs(await run(batch(records)));
    // The first answer was lost (timeout): Firehose invokes again with the same records.
    const retry = outputs(await run(batch(records)));
    expect(staged(first)).toHaveLength(40);
    expect(retry.map((o) => o.dataset)).toEqual(first.map((o) => o.dataset));
    expect(staged(retry).map((l) => l.event_uuid)).toEqual(staged(first).map((l) => l.event_uuid));
    expect(metrics.totals.duplicates).toBe(0);
    expect(metrics.totals.staleStateWrites).toBe(0);
  });

  it('stages every event exactly once when a first attempt wrote some markers and threw', async () => {
    const records = mixedBatch(60);
    const flaky = transform({ client: failingAfter(dynamo.client, 25) });
    await expect(flaky.run(batch(records))).rejects.toBeInstanceOf(DynamoUnavailableError);
    // The failed attempt returned nothing, so what the retry stages is all that reaches the lake.
    const retry = outputs(await transform().run(batch(records)));
    expect(retry.map((o) => o.recordId)).toEqual(records.map((r) => r.recordId));
    expect(retry.every((o) => o.dataset === 'staging')).toBe(true);
    expect(new Set(staged(retry).map((l) => l.event_uuid)).size).toBe(60);
  });

  it('stays retry-safe when the retry carries other recordIds and another record order', async () => {
    const records = mixedBatch(30);
    const flaky = transform({ client: failingAfter(dynamo.client, 20) });
    await expect(flaky.run(batch(records))).rejects.toThrow(DynamoUnavailableError);
    const renamed = records.map((r, i) => ({ ...r, recordId: `retry-${i}-${r.recordId}` })).reverse();
    const retry = outputs(await transform().run(batch(renamed)));
    expect(retry.every((o) => o.dataset === 'staging')).toBe(true);
  });

  it('tombstones a copy a client packed into the same call (same arrival) that reached another invocation', async () => {
    // One PutRecordBatch call: every sub-record shares its arrival time, each has its own recordId.
    const first = mixedBatch(6);
    const copy = record(JSON.parse(Buffer.from(first[3]!.data, 'base64').toString()), T0);
    const second = [...mixedBatch(5), copy];
    const { run } = transform();
    expect(staged(outputs(await run(batch(first))))).toHaveLength(6);
    const out = outputs(await run(batch(second)));
    expect(out.at(-1)!.line).toMatchObject({ reason: 'duplicate', first_record_id: first[3]!.recordId });
    expect(staged(out)).toHaveLength(5);
    // Firehose retries the first invocation: its events are staged again, none is a duplicate.
    expect(staged(outputs(await run(batch(first))))).toHaveLength(6);
  });

  it('still tombstones a client resend that arrives after a retried batch', async () => {
    const records = mixedBatch(10);
    const { run } = transform();
    await expect(transform({ client: failingAfter(dynamo.client, 5) }).run(batch(records))).rejects.toThrow();
    await run(batch(records));
    const resends = records.map((r, i) =>
      record(JSON.parse(Buffer.from(r.data, 'base64').toString()), T0 + 60_000 + i),
    );
    const out = outputs(await run(batch(resends)));
    expect(out.map((o) => (o.line as { reason?: string }).reason)).toEqual(Array(10).fill('duplicate'));
    expect(out.map((o) => (o.line as { first_record_id: string }).first_record_id)).toEqual(
      records.map((r) => r.recordId),
    );
  });

  it('fails the batch with a consistency error, not an outage, when a marker keeps vanishing before it is read', async () => {
    const first = game(randomUUID(), T0);
    await transform().run(batch([record(first)]));
    // Another payload under the same uuid fails the condition; the read that would explain it
    // finds no marker (as if it expired in between), every round.
    const vanishing: DynamoSender = {
      send: (async (command: unknown) => {
        const out = await dynamo.client.send(command as BatchGetItemCommand);
        if (command instanceof BatchGetItemCommand) {
          const responses = (out as BatchGetItemCommandOutput).Responses ?? {};
          responses[testConfig().tables.dedup] = [];
        }
        return out;
      }) as DynamoSender['send'],
    };
    const other = { ...first, event_specifics: { ...first.event_specifics, session_id: randomUUID() } };
    const run = transform({ client: vanishing }).run(batch([record(other, T0 + 1)]));
    await expect(run).rejects.toBeInstanceOf(DedupConsistencyError);
    await expect(run).rejects.toThrow(/kept changing/);
  });

  it('forgets an event_uuid after the dedup window, checked by the condition, not by TTL deletion', async () => {
    const event = game(randomUUID(), T0);
    await transform().run(batch([record(event)]));
    const withinWindow = outputs(
      await transform({ now: T0 + 167 * 3_600_000 }).run(batch([record(event, T0 + 1)])),
    );
    expect(withinWindow[0]!.dataset).toBe('quarantine');
    // 169 h later the marker has expired (dynalite never deletes it): the event is new again.
    const afterWindow = outputs(
      await transform({ now: T0 + 169 * 3_600_000 }).run(batch([record(event, T0 + 2)])),
    );
    expect(afterWindow[0]!.dataset).toBe('staging');
  });

  it('writes one conditional PutItem per event and reads only to explain a failed condition', async () => {
    const { run, metrics } = transform();
    const events = Array.from({ length: 120 }, () => game(randomUUID(), T0));
    await run(batch(events.map((e) => record(e))));
    expect(metrics.totals).toMatchObject({ dynamodbWrites: 120, dynamodbReads: 0 });
    await run(batch(events.map((e) => record(e, T0 + 1000))));
    // 120 failed conditions explained by two BatchGetItem calls (100 keys each at most).
    expect(metrics.totals).toMatchObject({ dynamodbWrites: 240, dynamodbReads: 2, duplicates: 120 });
  });
});
