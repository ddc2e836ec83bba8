import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BAD_KINDS } from '../../generator/stats.js';
import { countingSink } from '../../transform/metrics.js';
import { createTransform } from '../../transform/transform.js';
import {
  batch,
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

const transform = () => {
  const metrics = countingSink();
  return {
    metrics,
    run: createTransform({ dynamodb: dynamo.client, config: testConfig(), metrics, now: () => T0 }),
  };
};

/** One record of each bad-input kind the generator injects, by kind. */
function badRecords(arrivalMs: number) {
  const u = randomUUID();
  const wrongType = lesson(u, 'es', arrivalMs - 1000);
  wrongType.event_specifics.percentage_completed_in_course = 'half';
  const missing = subscription(u, 'es', arrivalMs - 1000);
  delete missing.event_specifics.subscription_status;
  const unknown = { ...game(u, arrivalMs - 1000), event_name: 'game:abandoned' };
  return {
    invalid_json: record('{"event_uuid": "x", "name": "Ada Lovelace", ', arrivalMs),
    invalid_utf8: record(
      Buffer.concat([
        Buffer.from('{"name":"Ada Lovelace","x":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]),
      arrivalMs,
    ),
    wrong_type: record(wrongType, arrivalMs),
    missing_field: record(missing, arrivalMs),
    unknown_event: record(unknown, arrivalMs),
    future_timestamp: record(game(u, arrivalMs + 6 * 60_000), arrivalMs),
    too_old: record(game(u, arrivalMs - 8 * 86_400_000), arrivalMs),
  } satisfies Record<Exclude<keyof typeof BAD_KINDS, 'oversized'>, unknown>;
}

describe('transform batch', () => {
  it('returns the only recordId of a batch of one', async () => {
    const input = batch([record(game(randomUUID(), T0 - 5000))]);
    const result = await transform().run(input);
    expect(result.records.map((r) => r.recordId)).toEqual([input.records[0]!.recordId]);
    expect(result.records[0]!.result).toBe('Ok');
  });

  it('returns every recordId exactly once, in order, for 5,000 mixed good, duplicate and bad records', async () => {
    // 50 users with a subscription each, then lessons and games, resends of them (in-batch
    // duplicates) and bad records. Sized so that the good events (DynamoDB writes) stay near
    // 300: dynalite is slow on a shared machine.
    const users = Array.from({ length: 50 }, () => randomUUID());
    const records: ReturnType<typeof record>[] = [];
    for (const u of users)
      records.push(record(user(u, T0 - 120_000)), record(subscription(u, 'fr', T0 - 110_000)));
    const good = [...records];
    let bad = 0;
    let duplicates = 0;
    const kinds = Object.values(badRecords(T0));
    for (let i = records.length; i < 5000; i++) {
      const u = users[i % users.length]!;
      if (i % 2 === 0) {
        records.push({ ...kinds[bad++ % kinds.length]!, recordId: `mixed-${i}` });
      } else if (i % 16 !== 1) {
        records.push({ ...good[good.length - 1 - (i % 7)]!, recordId: `mixed-${i}` });
        duplicates++;
      } else {
        const r = record(
          i % 3 === 0 ? game(u, T0 - 60_000 + i) : lesson(u, 'fr', T0 - 60_000 + i),
          T0,
          `mixed-${i}`,
        );
        records.push(r);
        good.push(r);
      }
    }
    const goodIds = good.map((r) => r.recordId);
    const { run, metrics } = transform();
    const result = await run(batch(records));
    expect(result.records.map((r) => r.recordId)).toEqual(records.map((r) => r.recordId));
    expect(new Set(result.records.map((r) => r.recordId)).size).toBe(5000);
    expect(result.records.filter((r) => r.result !== 'Ok')).toEqual([]);
    const out = outputs(result);
    expect(out.filter((o) => o.dataset === 'staging').map((o) => o.recordId)).toEqual(goodIds);
    expect(quarantined(out)).toHaveLength(bad + duplicates);
    expect(metrics.totals).toMatchObject({ records: 5000, staged: goodIds.length, duplicates });
    expect(Object.values(metrics.totals.quarantined).reduce((a, b) => a + b, 0)).toBe(bad + duplicates);
    // Every user and subscription came before the lessons of its user in this batch.
    const lessons = staged(out).filter((l) => l.event_name === 'lesson:completed');
    expect(lessons.length).toBeGreaterThan(100);
    expect(lessons.filter((l) => l.enrichment_status !== 'complete')).toEqual([]);
  });

  it('quarantines each bad-input kind with its reason and leaves the good records of the batch alone', async () => {
    const bad = badRecords(T0);
    const u = randomUUID();
    const good = [
      user(u, T0 - 3000),
      subscription(u, 'es', T0 - 2000),
      lesson(u, 'es', T0 - 1000),
      game(u, T0),
    ];
    const records = [];
    for (const [i, [kind, r]] of Object.entries(bad).entries()) {
      records.push({ ...r, recordId: `bad-${kind}` });
      if (good[i]) records.push(record(good[i], T0, `good-${i}`));
    }
    const { run, metrics } = transform();
    const out = outputs(await run(batch(records)));
    const byId = new Map(out.map((o) => [o.recordId, o]));
    for (const kind of Object.keys(bad) as (keyof typeof bad)[]) {
      const o = byId.get(`bad-${kind}`)!;
      expect(o.dataset, kind).toBe('quarantine');
      expect((o.line as { reason: string }).reason, kind).toBe(BAD_KINDS[kind]);
      expect((o.line as { errors: unknown[] }).errors.length, kind).toBeGreaterThan(0);
    }
    const goodLines = good.map((_, i) => byId.get(`good-${i}`)!);
    expect(goodLines.map((o) => o.dataset)).toEqual(['staging', 'staging', 'staging', 'staging']);
    expect(goodLines.map((o) => (o.line as { event_uuid: string }).event_uuid)).toEqual(
      good.map((g) => g.event_uuid),
    );
    expect(goodLines[2]!.line).toMatchObject({ enrichment_status: 'complete', country: 'GB' });
    expect(metrics.totals.quarantined).toMatchObject({
      invalid_json: 1,
      invalid_utf8: 1,
      schema_violation: 2,
      unknown_event: 1,
      future_timestamp: 1,
      too_late: 1,
    });
  });

  it('keeps what a fix needs in quarantine: the payload, or its base64 when not UTF-8, and every violation', async () => {
    const bad = badRecords(T0);
    const out = outputs(await transform().run(batch([bad.wrong_type, bad.invalid_utf8, bad.missing_field])));
    const [wrongType, utf8, missing] = quarantined(out);
    expect(wrongType!.errors).toEqual([
      { path: '/event_specifics/percentage_completed_in_course', message: 'must be integer' },
    ]);
    expect(JSON.parse(wrongType!.payload!).event_specifics.percentage_completed_in_course).toBe('half');
    expect(wrongType!.event_uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(utf8!.payload).toBeNull();
    expect(Buffer.from(utf8!.payload_base64!, 'base64').subarray(-4)).toEqual(
      Buffer.from([0xc3, 0x28, 0x22, 0x7d]),
    );
    expect(missing!.errors.map((e) => e.path)).toEqual(['/event_specifics/subscription_status']);
  });

  it('never lets a personal name reach any output line, staged or quarantined', async () => {
    const u = randomUUID();
    const conflict = user(u, T0 - 5000);
    const conflicting = { ...user(u, T0 - 4000), event_uuid: conflict.event_uuid };
    const nested = game(u, T0 - 1000);
    nested.event_specifics.extra = { player: { firstname: 'Ada', lastname: 'Lovelace' } };
    const schemaBad = user(u, T0);
    schemaBad.event_specifics.active = 'yes';
    const out = outputs(
      await transform().run(
        batch([
          ...Object.values(badRecords(T0)),
          record(conflict),
          record(conflicting),
          record(subscription(u, 'es', T0 - 3000)),
          record(nested),
          record(schemaBad),
          record({ ...lesson(u, 'es', T0), name: 'Ada Lovelace' }),
        ]),
      ),
    );
    expect(out.some((o) => o.dataset === 'quarantine' && o.line.reason === 'uuid_conflict')).toBe(true);
    for (const o of out) {
      const texts = [o.text];
      if (o.dataset === 'quarantine' && o.line.payload_base64) {
        texts.push(Buffer.from(o.line.payload_base64, 'base64').toString('latin1'));
      }
      for (const text of texts) {
        expect(text).not.toMatch(/Ada|Lovelace|Grace|Hopper/);
        expect(text).not.toMatch(/"(name|firstname|lastname)":"[^[]/);
      }
    }
  });

  it('writes the output line of the contract, newline-terminated, partitioned by event time', async () => {
    const u = randomUUID();
    const g = game(u, T0 - 30 * 60_000);
    g.created_at = '2026-11-21T11:30:00.123+00:00';
    const r = (await transform().run(batch([record(g, T0 + 1)]))).records[0]!;
    const text = Buffer.from(r.data!, 'base64').toString('utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    expect(JSON.parse(text)).toEqual({
      event_uuid: g.event_uuid,
      event_name: 'game:completed',
      event_type: 'game',
      event_subtype: 'completed',
      created_at: '2026-11-21T11:30:00.123Z',
      received_at: '2026-11-21T12:00:00.001Z',
      user_uuid: u,
      language: 'es',
      event_specifics: g.event_specifics,
      subscription_status: null,
      subscription_type: null,
      country: null,
      enrichment_status: null,
    });
    expect(r.metadata?.partitionKeys).toEqual({
      dataset: 'staging',
      year: '2026',
      month: '11',
      day: '21',
      hour: '11',
      minute: '30',
    });
  });

  it("stages an event that arrives more than an hour after it happened on its day's late shelf", async () => {
    // T0 is 2026-11-21T12:00:00Z; the arrival is T0 + 1 ms.
    const at = (createdMs: number) => {
      const g = game(randomUUID(), createdMs);
      return record(g, T0 + 1);
    };
    const out = await transform().run(
      batch([
        at(T0 + 1 - 3_600_000), // exactly an hour: on time, its minute
        at(T0 - 3_600_000), // an hour and 1 ms: late
        at(T0 - 26 * 3_600_000), // the day before: that day's shelf
        at(T0 - 26 * 3_600_000 + 60_000),
      ]),
    );
    const keys = out.records.map((r) => r.metadata?.partitionKeys);
    const day = (d: string, hour: string, minute: string) => ({
      dataset: 'staging',
      year: '2026',
      month: '11',
      day: d,
      hour,
      minute,
    });
    expect(keys).toEqual([
      day('21', '11', '00'),
      day('21', '24', '00'),
      day('20', '24', '00'),
      day('20', '24', '00'),
    ]);
    expect(out.records.every((r) => r.result === 'Ok')).toBe(true);
    // One metadata object per shelf, as per minute: the local Firehose and Firehose group by keys.
    expect(out.records[2]!.metadata).toBe(out.records[3]!.metadata);
  });

  it('partitions quarantine by arrival time, not event time', async () => {
    const late = game(randomUUID(), Date.UTC(2026, 0, 1));
    const r = (await transform().run(batch([record(late, Date.UTC(2026, 10, 21, 23, 59, 59))]))).records[0]!;
    expect(r.metadata?.partitionKeys).toEqual({
      dataset: 'quarantine',
      year: '2026',
      month: '11',
      day: '21',
      hour: '23',
      minute: '59',
    });
  });

  it('accepts records from a Kinesis Data Stream source the same way', async () => {
    const g = game(randomUUID(), T0 - 1000);
    const rec = {
      ...record(g),
      kinesisRecordMetadata: {
        shardId: 'shardId-000000000000',
        partitionKey: 'p',
        approximateArrivalTimestamp: T0,
        sequenceNumber: '49546986683135544286507457936321625675700192471156785154',
        subsequenceNumber: '0',
      },
    };
    const { run } = transform();
    const first = outputs(
      await run({ ...batch([rec]), sourceKinesisStreamArn: 'arn:aws:kinesis:eu-west-1:1:stream/s' }),
    );
    expect(first[0]!.dataset).toBe('staging');
    // A retry of the batch carries the same sequence number: still staged, not a duplicate.
    const retry = outputs(await run(batch([{ ...rec, recordId: 'another-id' }])));
    expect(retry[0]!.dataset).toBe('staging');
    // The same event put again into the stream has a new sequence number: a duplicate.
    const resend = outputs(
      await run(
        batch([
          {
            ...rec,
            recordId: 'resend',
            kinesisRecordMetadata: { ...rec.kinesisRecordMetadata, sequenceNumber: '4955' },
          },
        ]),
      ),
    );
    expect(resend[0]!.line).toMatchObject({ reason: 'duplicate' });
  });

  it('fails only a record that cannot even be wrapped', async () => {
    const good = record(game(randomUUID(), T0));
    const broken = { recordId: 'no-data', approximateArrivalTimestamp: T0 } as unknown as typeof good;
    const { run, metrics } = transform();
    const result = await run(batch([broken, good]));
    expect(result.records.map((r) => [r.recordId, r.result])).toEqual([
      ['no-data', 'ProcessingFailed'],
      [good.recordId, 'Ok'],
    ]);
    expect(metrics.totals.processingFailed).toBe(1);
  });
});
