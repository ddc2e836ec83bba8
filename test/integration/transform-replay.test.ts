import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DynamoSender, DynamoUnavailableError } from '../../transform/dynamo.js';
import { REPLAY_KEY, type ReplayTag, replayTagValue } from '../../transform/replay-tag.js';
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
  T0,
  testConfig,
  useLocalDynamo,
} from '../transform-fixtures.js';

// The transform's side of `firelake replay`: the tag is taken out before the fingerprint, its
// origin lands in replayed_from, --allow-late and the takeover of a failed delivery's marker.

const dynamo = useLocalDynamo();
const DAY = 86_400_000;

function run(client: DynamoSender = dynamo.client, now = T0 + 10_000) {
  return createTransform({ dynamodb: client, config: testConfig(), now: () => now });
}

function tagged(event: Ev, tag: Partial<ReplayTag> & { from: string }): Record<string, unknown> {
  return {
    ...event,
    [REPLAY_KEY]: replayTagValue({ allowLate: false, originalArrivalMs: null, ...tag }),
  };
}

describe('replayed records in the transform', () => {
  it('stages a replayed record with its origin, the tag itself gone from the line', async () => {
    const event = game(randomUUID(), T0 - 1000);
    const from = 'quarantine/year=2026/month=11/day=21/hour=11/minute=59/firelake-events-1-x.gz#3';
    const [line] = staged(outputs(await run()(batch([record(tagged(event, { from }), T0)])))) as unknown as [
      Record<string, unknown>,
    ];
    expect(line.replayed_from).toBe(from);
    expect(line.event_uuid).toBe(event.event_uuid);
    expect(JSON.stringify(line)).not.toContain(REPLAY_KEY);
  });

  it('makes a replay of a staged live event its duplicate, and a second replay a duplicate of the first', async () => {
    const event = game(randomUUID(), T0 - 1000);
    const live = record(event, T0);
    await run()(batch([live]));
    const from = 'errors/processing-failed/year=2026/month=11/day=21/x.gz#1';
    const [again] = quarantined(outputs(await run()(batch([record(tagged(event, { from }), T0 + 5000)]))));
    expect(again).toMatchObject({ reason: 'duplicate', first_record_id: live.recordId, replayed_from: from });

    const fixed = lesson(randomUUID(), 'de', T0 - 2000);
    const first = record(tagged(fixed, { from: 'quarantine/a.gz#1' }), T0 + 6000);
    expect(staged(outputs(await run()(batch([first]))))).toHaveLength(1);
    const second = record(tagged(fixed, { from: 'quarantine/a.gz#1' }), T0 + 9000);
    const [tombstone] = quarantined(outputs(await run()(batch([second]))));
    expect(tombstone).toMatchObject({
      reason: 'duplicate',
      first_record_id: first.recordId,
      replayed_from: 'quarantine/a.gz#1',
    });
  });

  it('takes over the marker a failed delivery wrote, but only once: the next replay is a duplicate', async () => {
    const event = game(randomUUID(), T0 - 1000);
    const original = record(event, T0);
    // DynamoDB goes away after the marker write: the batch fails (Firehose retries, then errors/).
    const other = record(game(randomUUID(), T0 - 500), T0);
    await expect(run(failingAfter(dynamo.client, 1))(batch([original, other]))).rejects.toThrow(
      DynamoUnavailableError,
    );

    // Without the failed delivery's arrival the marker reads as an earlier delivery: lost.
    const untagged = record(tagged(event, { from: 'errors/x.gz#1' }), T0 + 60_000);
    expect(quarantined(outputs(await run()(batch([untagged]))))[0]?.reason).toBe('duplicate');

    const tag = { from: 'errors/x.gz#1', originalArrivalMs: T0 };
    const replay = record(tagged(event, tag), T0 + 120_000);
    const [line] = staged(outputs(await run()(batch([replay])))) as unknown as [Record<string, unknown>];
    expect(line).toMatchObject({ event_uuid: event.event_uuid, replayed_from: 'errors/x.gz#1' });

    const replayAgain = record(tagged(event, tag), T0 + 180_000);
    const [tombstone] = quarantined(outputs(await run()(batch([replayAgain]))));
    expect(tombstone).toMatchObject({ reason: 'duplicate', first_record_id: replay.recordId });
  });

  it('does not take over the marker of a delivery that arrived at another time', async () => {
    const event = game(randomUUID(), T0 - 1000);
    const live = record(event, T0);
    expect(staged(outputs(await run()(batch([live]))))).toHaveLength(1);
    const replay = record(tagged(event, { from: 'errors/y.gz#4', originalArrivalMs: T0 - 1 }), T0 + 5000);
    expect(quarantined(outputs(await run()(batch([replay]))))[0]?.reason).toBe('duplicate');
  });

  it('accepts an event older than the late window only when the replay allows it', async () => {
    const old = game(randomUUID(), T0 - 9 * DAY);
    const [refused] = quarantined(outputs(await run()(batch([record(tagged(old, { from: 'q.gz#1' }), T0)]))));
    expect(refused).toMatchObject({ reason: 'too_late', replayed_from: 'q.gz#1' });
    expect(refused!.payload).not.toContain(REPLAY_KEY);
    const allowed = record(tagged(old, { from: 'q.gz#1', allowLate: true }), T0 + 1000);
    const [line] = staged(outputs(await run()(batch([allowed]))));
    expect(line?.created_at).toBe(new Date(T0 - 9 * DAY).toISOString());
    // A live event that old is still too late.
    const live = game(randomUUID(), T0 - 9 * DAY);
    expect(quarantined(outputs(await run()(batch([record(live, T0)]))))[0]?.reason).toBe('too_late');
  });

  it('quarantines a replayed record that is still invalid with its origin and without the tag', async () => {
    const bad = { ...lesson(randomUUID(), 'fr', T0 - 1000) } as Ev & {
      event_specifics: Record<string, unknown>;
    };
    bad.event_specifics = { ...bad.event_specifics, completed_lessons_in_course: '3' };
    const [line] = quarantined(outputs(await run()(batch([record(tagged(bad, { from: 'q.gz#9' }), T0)]))));
    expect(line).toMatchObject({ reason: 'schema_violation', replayed_from: 'q.gz#9' });
    expect(line!.payload).not.toContain(REPLAY_KEY);
  });

  it('refuses a reserved key that holds no valid tag, and writes no replayed_from on live records', async () => {
    const event = { ...game(randomUUID(), T0 - 1000), [REPLAY_KEY]: 'yes' };
    const [line] = quarantined(outputs(await run()(batch([record(event, T0)]))));
    expect(line).toMatchObject({ reason: 'schema_violation', errors: [{ path: `/${REPLAY_KEY}` }] });
    expect(line).not.toHaveProperty('replayed_from');
    const live = outputs(await run()(batch([record(game(randomUUID(), T0 - 1000), T0)])));
    expect(live[0]!.text).not.toContain('replayed_from');
  });
});
