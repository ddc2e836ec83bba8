import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import type { StagedEvent } from '../../events/types.js';
import { FolderStore } from '../../lake/folder-store.js';
import { dayOf } from '../../lake/layout.js';
import { runScorecard } from '../../sql/scorecard.js';
import { DEFAULT_TABLE_NAMES } from '../../transform/tables.js';
import { awayFromMidnight } from '../support/clock.js';
import { readLines } from '../support/lake-read.js';
import { sendThroughLocalFirehose } from '../support/local-send.js';
import { dynamoClient } from '../transform-fixtures.js';

// An app whose events are valid under the catalog's schemas (free strings)
// but outside the values Firelake expects is staged, writes state and enriches its lessons; the
// scorecard warns about the unexpected values with their counts.

const dir = mkdtempSync(join(tmpdir(), 'firelake-vocabulary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('open vocabularies', () => {
  it('stages schema-valid events with arbitrary strings, writes their state, enriches lessons and warns', async () => {
    const store = new FolderStore(join(dir, 'lake'));
    const now = (await awayFromMidnight(-60_000, 60_000)) - 60_000;
    const at = (i: number) => (now + i * 1000) / 1000;
    // The schemas type every one of these as a plain string: none is Firelake's vocabulary.
    const users = ['member-0001', 'member-0002'];
    const events = [
      ...users.map((u, i) => ({
        event_uuid: randomUUID(),
        created_at: at(i),
        event_name: 'user:created',
        event_specifics: { operation: 'insert', uuid: u, name: 'A B', country: 'Deutschland', active: true },
      })),
      ...users.map((u, i) => ({
        event_uuid: randomUUID(),
        created_at: at(10 + i),
        event_name: 'subscription:created',
        event_specifics: {
          operation: 'upsert',
          user_uuid: u,
          language: 'german',
          name: 'Plan',
          subscription_status: 'paying',
          subscription_type: i === 0 ? 'monthly' : 'yearly',
          subscription_period: i === 0 ? 30 : 365,
        },
      })),
      ...users.flatMap((u, i) =>
        [0, 1, 2].map((n) => ({
          event_uuid: randomUUID(),
          created_at: at(20 + i * 3 + n),
          event_name: 'lesson:completed',
          event_specifics: {
            content_release_id: 'spring drop',
            title: 'Im Café',
            language: 'german',
            course_uuid: 'course: cafe & bakery',
            course_title: 'Café',
            number_of_lessons_in_course: 10,
            completed_lessons_in_course: n + 1,
            percentage_completed_in_course: (n + 1) * 10,
            user_uuid: u,
          },
        })),
      ),
    ];
    // State first, then lessons in a later batch: the lessons read the state from DynamoDB.
    await sendThroughLocalFirehose(store, [events.slice(0, 4), events.slice(4)], async (pipeline) => {
      const dynamodb = dynamoClient(pipeline.dynamodbEndpoint);
      try {
        const sub = await dynamodb.send(
          new GetItemCommand({
            TableName: DEFAULT_TABLE_NAMES.subscriptions,
            Key: { user_uuid: { S: 'member-0001' }, language: { S: 'german' } },
            ConsistentRead: true,
          }),
        );
        expect(sub.Item?.subscription_type?.S).toBe('monthly');
        expect(sub.Item?.subscription_status?.S).toBe('paying');
        const user = await dynamodb.send(
          new GetItemCommand({
            TableName: DEFAULT_TABLE_NAMES.users,
            Key: { user_uuid: { S: 'member-0002' } },
            ConsistentRead: true,
          }),
        );
        expect(user.Item?.country?.S).toBe('Deutschland');
      } finally {
        dynamodb.destroy();
      }
    });

    const staged = (await readLines<StagedEvent>(store, 'staging/')).map((l) => l.value);
    expect(staged).toHaveLength(events.length);
    expect((await readLines(store, 'quarantine/')).length).toBe(0);
    const lessons = staged.filter((e) => e.event_name === 'lesson:completed');
    expect(lessons).toHaveLength(6);
    for (const lesson of lessons) {
      expect(lesson.enrichment_status).toBe('complete');
      expect(lesson.country).toBe('Deutschland');
      expect(lesson.subscription_status).toBe('paying');
    }
    expect(lessons.map((l) => l.subscription_type).sort()).toEqual([
      'monthly',
      'monthly',
      'monthly',
      'yearly',
      'yearly',
      'yearly',
    ]);

    const day = dayOf(now);
    await compactDay({ store, day, threads: 1, memoryLimitMiB: 256, workDir: dir });
    const card = await runScorecard({ store, day, asOf: new Date(now + 3_600_000) });
    const check = (id: string) => card.checks.find((c) => c.id === id);
    const type = check('vocabulary.subscription_type')!;
    expect(type.status).toBe('warn');
    expect(type.figure).toBe(1);
    expect(type.detail).toBe('2 of 2 values not expected: "monthly" 1, "yearly" 1');
    expect(check('vocabulary.subscription_status')!.detail).toBe('2 of 2 values not expected: "paying" 2');
    expect(check('vocabulary.operation')!.detail).toBe('4 of 4 values not expected: "insert" 2, "upsert" 2');
    expect(check('bounds.country')).toMatchObject({ status: 'warn', figure: 1 });
    expect(check('bounds.percentage_completed_in_course')).toMatchObject({ status: 'pass', figure: 0 });
    // A vocabulary check only warns: the day does not fail because of it.
    expect(card.checks.filter((c) => c.dimension === 'vocabulary' && c.status === 'fail')).toEqual([]);
  }, 240_000); // up to 2.5 min of it waiting out midnight UTC (test/support/clock.ts)
});
