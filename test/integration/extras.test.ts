import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, describe, expect, it } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import { createCuratedView } from '../../compaction/read.js';
import type { StagedEvent } from '../../events/types.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { dayOf } from '../../lake/layout.js';
import { decodeRecord, extrasOf } from '../../transform/decode.js';
import { readLines } from '../support/lake-read.js';
import { sendThroughLocalFirehose } from '../support/local-send.js';

// Fields the catalog does not name go through the local Firehose and
// compaction into curated `extras`, where DuckDB SQL and an independent Parquet reader
// (hyparquet) read the same values.

const dir = mkdtempSync(join(tmpdir(), 'firelake-extras-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USER = '0b7e6c52-3f4a-4d8e-9f3b-1c2d3e4f5a6b';

describe('extras', () => {
  it('keeps unknown event_specifics fields and top-level keys in curated extras, names scrubbed', async () => {
    const store = new FolderStore(join(dir, 'lake'));
    const at = (Date.now() - 60_000) / 1000;
    const withExtras = {
      event_uuid: randomUUID(),
      created_at: at,
      event_name: 'game:completed',
      event_specifics: {
        user_uuid: USER,
        session_id: 'f3a1c8e2-1b2c-4d5e-8f90-a1b2c3d4e5f6',
        device: 'iOS',
        language_id: 'de',
        difficulty: 'Hard',
        score: 46,
        // Two fields the catalog does not name (one nested, with a personal name inside).
        xp: 120,
        streak: { days: 7, friend: { firstname: 'Ada', level: 3 } },
      },
      // An unknown top-level key, a personal one, and the pipeline's own.
      ab_group: 'B',
      name: 'Ada Lovelace',
      _firelake_trace: { hop: 3 },
    };
    const plain = {
      event_uuid: randomUUID(),
      created_at: at + 1,
      event_name: 'session:started',
      event_specifics: { user_uuid: USER, session_id: 'f3a1c8e2-1b2c-4d5e-8f90-a1b2c3d4e5f6', device: 'iOS' },
    };
    await sendThroughLocalFirehose(store, [[withExtras, plain]]);

    const expected = { _envelope: { ab_group: 'B' }, streak: { days: 7, friend: { level: 3 } }, xp: 120 };
    const staged = new Map(
      (await readLines<StagedEvent>(store, 'staging/')).map((l) => [l.value.event_uuid, l.value]),
    );
    expect(staged.get(withExtras.event_uuid)?.extras).toEqual(expected);
    expect(staged.get(plain.event_uuid)).not.toHaveProperty('extras');

    const day = dayOf(at * 1000);
    const summary = await compactDay({ store, day, threads: 1, memoryLimitMiB: 256, workDir: dir });
    expect(summary.rows).toBe(2);

    // DuckDB, through the manifest.
    const db = await openDuckDb();
    const connection = db.connection;
    let duck: Record<string, unknown>[];
    try {
      await createCuratedView(connection, store, [day]);
      duck = (
        await connection.runAndReadAll(`
          SELECT event_uuid, extras, json_extract(extras, '$.xp')::INTEGER AS xp,
            json_extract_string(extras, '$.streak.days') AS streak_days,
            json_extract_string(extras, '$._envelope.ab_group') AS ab_group
          FROM curated_events ORDER BY created_at`)
      ).getRowObjectsJson();
    } finally {
      db.close();
    }
    expect(duck).toEqual([
      {
        event_uuid: withExtras.event_uuid,
        extras: JSON.stringify(expected),
        xp: 120,
        streak_days: '7',
        ab_group: 'B',
      },
      { event_uuid: plain.event_uuid, extras: null, xp: null, streak_days: null, ab_group: null },
    ]);

    // hyparquet, file by file: the same text.
    const independent = new Map<string, unknown>();
    for (const file of summary.files) {
      const rows = await parquetReadObjects({
        file: await asyncBufferFromFile(join(store.root, file.key)),
        columns: ['event_uuid', 'extras'],
        compressors,
      });
      for (const row of rows) independent.set(String(row.event_uuid), row.extras ?? null);
    }
    expect(Object.fromEntries(independent)).toEqual(
      Object.fromEntries(duck.map((r) => [r.event_uuid as string, r.extras])),
    );
  });
});

describe('extras in the transform', () => {
  const known = new Set(['user_uuid', 'score']);
  const event = (specifics: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
    event_uuid: 'e',
    created_at: 1,
    event_name: 'game:completed',
    event_specifics: specifics,
    ...top,
  });

  it('is null when the catalog names every field (most events)', () => {
    const specifics = { user_uuid: 'u', score: 1 };
    expect(extrasOf(event(specifics), specifics, known)).toBeNull();
  });

  it('keeps a __proto__ key as a key, and leaves the pipeline its _firelake keys', () => {
    const value = JSON.parse(
      '{"event_uuid":"e","_firelake_origin":1,"event_specifics":{"__proto__":{"a":1}}}',
    );
    expect(extrasOf(value, value.event_specifics, known)).toBe('{"__proto__":{"a":1}}');
  });

  it('quarantines a specifics field named _envelope, which would read as envelope keys', async () => {
    const decoded = decodeRecord(
      Buffer.from(
        JSON.stringify({
          event_uuid: '46a7d002-805e-44e7-9888-b1f8a7b4d973',
          created_at: 1795132800,
          event_name: 'session:started',
          event_specifics: { user_uuid: 'u', session_id: 's', _envelope: 1 },
        }),
      ).toString('base64'),
    );
    expect(decoded).toMatchObject({
      ok: false,
      reason: 'schema_violation',
      errors: [{ path: '/event_specifics/_envelope' }],
    });
  });
});
