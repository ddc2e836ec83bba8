import { randomUUID } from 'node:crypto';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { countingSink } from '../../transform/metrics.js';
import { TABLES } from '../../transform/tables.js';
import { createTransform } from '../../transform/transform.js';
import {
  batch,
  game,
  lesson,
  outputs,
  record,
  staged,
  subscription,
  T0,
  testConfig,
  useLocalDynamo,
  user,
} from '../transform-fixtures.js';

const dynamo = useLocalDynamo();

const config = testConfig();
function transform() {
  const metrics = countingSink();
  return { metrics, run: createTransform({ dynamodb: dynamo.client, config, metrics, now: () => T0 }) };
}

async function storedSubscription(userUuid: string, language: string) {
  const { Item } = await dynamo.client.send(
    new GetItemCommand({
      TableName: config.tables.subscriptions,
      Key: {
        [TABLES.subscriptions.partitionKey.name]: { S: userUuid },
        [TABLES.subscriptions.sortKey.name]: { S: language },
      },
      ConsistentRead: true,
    }),
  );
  return Item;
}

const lessonsOf = (lines: ReturnType<typeof staged>) =>
  lines.filter((l) => l.event_name === 'lesson:completed');

describe('state and enrichment', () => {
  it('ends out-of-order subscription updates in the newest state and enriches a later lesson with it', async () => {
    const u = randomUUID();
    const { run, metrics } = transform();
    const newest = subscription(u, 'es', T0 - 1000, {
      subscription_status: 'cancelled',
      subscription_type: 'basic',
    });
    const older = subscription(u, 'es', T0 - 5000, {
      subscription_status: 'trial',
      subscription_type: 'free',
    });
    const oldest = subscription(u, 'es', T0 - 9000, {
      subscription_status: 'active',
      subscription_type: 'premium',
    });
    const out = staged(
      outputs(
        await run(
          batch([
            record(user(u, T0 - 20_000)),
            record(newest),
            record(older),
            record(oldest),
            record(lesson(u, 'es', T0)),
          ]),
        ),
      ),
    );
    expect(lessonsOf(out)[0]).toMatchObject({
      subscription_status: 'cancelled',
      subscription_type: 'basic',
      country: 'GB',
      enrichment_status: 'complete',
    });
    expect((await storedSubscription(u, 'es'))?.subscription_status).toEqual({ S: 'cancelled' });
    expect(metrics.totals.staleStateWrites).toBe(2);

    // An update older than the stored state, arriving in a later batch, does not overwrite it.
    const late = subscription(u, 'es', T0 - 3000, { subscription_status: 'past_due' });
    const next = staged(
      outputs(await run(batch([record(late, T0 + 1), record(lesson(u, 'es', T0 + 1), T0 + 1)]))),
    );
    expect(lessonsOf(next)[0]!.subscription_status).toBe('cancelled');
    expect((await storedSubscription(u, 'es'))?.subscription_status).toEqual({ S: 'cancelled' });
    expect(metrics.totals.staleStateWrites).toBe(3);
  });

  it('enriches each lesson with the state as of its position in the batch', async () => {
    const u = randomUUID();
    const { run } = transform();
    await run(
      batch([record(user(u, T0 - 60_000, { country: 'FR' })), record(subscription(u, 'es', T0 - 60_000))]),
    );
    const out = staged(
      outputs(
        await run(
          batch([
            record(lesson(u, 'es', T0 - 4000)),
            record(user(u, T0 - 3000, { country: 'ES' })),
            record(subscription(u, 'es', T0 - 3000, { subscription_status: 'past_due' })),
            record(lesson(u, 'es', T0 - 2000)),
          ]),
        ),
      ),
    );
    expect(lessonsOf(out).map((l) => [l.country, l.subscription_status])).toEqual([
      ['FR', 'active'],
      ['ES', 'past_due'],
    ]);
  });

  it('matches the subscription of the lesson language among several of the user', async () => {
    const u = randomUUID();
    const { run } = transform();
    await run(
      batch([
        record(user(u, T0 - 9000)),
        record(
          subscription(u, 'es', T0 - 8000, { subscription_status: 'active', subscription_type: 'premium' }),
        ),
        record(subscription(u, 'fr', T0 - 8000, { subscription_status: 'trial', subscription_type: 'free' })),
      ]),
    );
    const out = staged(
      outputs(
        await run(
          batch([
            record(
              subscription(u, 'de', T0 - 7000, {
                subscription_status: 'expired',
                subscription_type: 'basic',
              }),
            ),
            record(lesson(u, 'fr', T0)),
            record(lesson(u, 'es', T0)),
            record(lesson(u, 'de', T0)),
            record(lesson(u, 'it', T0)),
          ]),
        ),
      ),
    );
    expect(
      lessonsOf(out).map((l) => [
        l.language,
        l.subscription_status,
        l.subscription_type,
        l.enrichment_status,
      ]),
    ).toEqual([
      ['fr', 'trial', 'free', 'complete'],
      ['es', 'active', 'premium', 'complete'],
      ['de', 'expired', 'basic', 'complete'],
      ['it', null, null, 'missing_subscription'],
    ]);
  });

  it('says which part of the enrichment is missing, and counts it', async () => {
    const noUser = randomUUID();
    const noSub = randomUUID();
    const { run, metrics } = transform();
    const out = staged(
      outputs(
        await run(
          batch([
            record(subscription(noUser, 'es', T0 - 1000)),
            record(user(noSub, T0 - 1000)),
            record(lesson(noUser, 'es', T0)),
            record(lesson(noSub, 'es', T0)),
            record(lesson(randomUUID(), 'es', T0)),
          ]),
        ),
      ),
    );
    expect(lessonsOf(out).map((l) => [l.enrichment_status, l.country, l.subscription_status])).toEqual([
      ['missing_user', null, 'active'],
      ['missing_subscription', 'GB', null],
      ['missing_user_and_subscription', null, null],
    ]);
    expect(metrics.totals).toMatchObject({ lessons: 3, enrichmentMisses: 3 });
  });

  it('re-applies the state of a retried batch without counting it stale', async () => {
    const u = randomUUID();
    const events = [record(user(u, T0 - 1000)), record(subscription(u, 'pt', T0 - 1000))];
    const { run, metrics } = transform();
    await run(batch(events));
    await run(batch(events));
    expect(metrics.totals).toMatchObject({ stateWrites: 4, staleStateWrites: 0 });
  });

  it('breaks ties of event time by event uuid, the same way in every invocation', async () => {
    const u = randomUUID();
    const a = {
      ...subscription(u, 'nl', T0, { subscription_status: 'trial' }),
      event_uuid: '00000000-0000-4000-8000-000000000001',
    };
    const b = {
      ...subscription(u, 'nl', T0, { subscription_status: 'expired' }),
      event_uuid: 'ffffffff-0000-4000-8000-000000000001',
    };
    // Written in opposite orders by two batches: the higher uuid wins both ways.
    await transform().run(batch([record(b)]));
    await transform().run(batch([record(a)]));
    expect((await storedSubscription(u, 'nl'))?.subscription_status).toEqual({ S: 'expired' });
  });

  it('never stores personal names in the state tables', async () => {
    await transform().run(
      batch([record(user(randomUUID(), T0)), record(subscription(randomUUID(), 'es', T0))]),
    );
    for (const table of [config.tables.users, config.tables.subscriptions]) {
      const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: table }));
      expect(Items.length).toBeGreaterThan(0);
      for (const item of Items) {
        expect(Object.keys(item)).not.toContain('name');
        expect(Object.keys(item)).not.toContain('firstname');
        expect(JSON.stringify(item)).not.toMatch(/Ada|Lovelace|Grace|Hopper/);
      }
    }
  });

  it('reads at most 0.03 requests per event, batching and deduplicating keys across the batch', async () => {
    // A realistic mix (the app's user : subscription : lesson = 20 : 5 : 100) plus games, 60
    // users learning two languages each.
    const users = Array.from({ length: 60 }, () => randomUUID());
    const records = [];
    const keys = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const u = users[i % users.length]!;
      const at = T0 - 10_000 + i;
      const kind = i % 25;
      const language = Math.floor(i / 60) % 2 ? 'es' : 'fr';
      if (kind < 3) records.push(record(user(u, at)));
      else if (kind < 4) records.push(record(subscription(u, language, at)));
      else if (kind < 20) {
        records.push(record(lesson(u, language, at)));
        keys.add(`user ${u}`).add(`subscription ${u} ${language}`);
      } else records.push(record(game(u, at)));
    }
    const { run, metrics } = transform();
    await run(batch(records));
    expect(keys.size).toBeGreaterThan(100);
    // Each user and (user, language) read once, however many lessons share it; 100 per call.
    expect(metrics.totals.dynamodbReads).toBe(Math.ceil(keys.size / 100));
    expect(metrics.totals.dynamodbReads / records.length).toBeLessThanOrEqual(0.03);
  });
});
