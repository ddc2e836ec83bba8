import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuarantineRecord } from '../../events/types.js';
import { FolderStore } from '../../lake/folder-store.js';
import type { ReplayReport } from '../../replay/replay.js';
import { firelakeWith } from '../support/cli.js';
import { game, lesson } from '../transform-fixtures.js';

// Bad input, as a user meets it: each case says what is wrong on stderr and exits non-zero, and
// nothing is sent. The Firehose endpoint is a closed port: a replay that tried to send would fail
// with a network error, not with the message the case expects.

const DAY = '2026-11-20';
const dir = mkdtempSync(join(tmpdir(), 'firelake-replay-cli-'));
const lake = join(dir, 'lake');
const ENV = {
  AWS_ENDPOINT_URL_FIREHOSE: 'http://127.0.0.1:9',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
};

function firelake(...args: string[]) {
  return firelakeWith(ENV, 'replay', '--lake', lake, ...args);
}

function quarantineLine(reason: QuarantineRecord['reason'], payload: unknown): QuarantineRecord {
  const p = payload as { event_uuid: string; event_name: string };
  return {
    reason,
    received_at: `${DAY}T10:00:00.000Z`,
    record_id: randomUUID(),
    event_uuid: p.event_uuid,
    event_name: p.event_name,
    created_at: `${DAY}T09:59:00.000Z`,
    errors: [{ path: '/event_specifics/score', message: 'must be integer' }],
    payload: reason === 'duplicate' ? null : JSON.stringify(payload),
    payload_base64: null,
    first_record_id: null,
  };
}

const t = Date.parse(`${DAY}T09:59:00Z`);
const lines = [
  quarantineLine('schema_violation', lesson(randomUUID(), 'de', t)),
  quarantineLine('schema_violation', game(randomUUID(), t)),
  quarantineLine('duplicate', game(randomUUID(), t)),
  quarantineLine('too_late', game(randomUUID(), t - 30 * 86_400_000)),
];

beforeAll(async () => {
  const store = new FolderStore(lake);
  const prefix = `quarantine/year=2026/month=11/day=20/hour=10/minute=00/`;
  await store.put(
    `${prefix}firelake-events-1-2026-11-20-10-00-00-a.gz`,
    gzipSync(lines.map((l) => `${JSON.stringify(l)}\n`).join('')),
  );
  await store.put(`${prefix}firelake-events-1-2026-11-20-10-00-30-b.gz`, Buffer.from('not gzip, not json'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('firelake replay: bad input', () => {
  it('names an unreadable quarantine object, skips it, counts it, and exits 1 at the end', () => {
    const run = firelake('--date', DAY, '--dry-run', '--json');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unreadable quarantine\/.*-b\.gz: line 1 is not JSON/);
    const report = JSON.parse(run.stdout) as ReplayReport;
    expect(report.unreadable).toEqual([{ key: expect.stringMatching(/-b\.gz$/), error: expect.any(String) }]);
    // The readable object was still read: its duplicate tombstone left out, three records selected.
    expect(report).toMatchObject({
      objects_read: 2,
      lines_read: 4,
      selected: 3,
      left_out: { tombstones: 1 },
    });
    expect(report.by_reason).toEqual([
      { reason: 'schema_violation', selected: 2, sendable: 2, would_accept: 0, not_sendable: 0 },
      { reason: 'too_late', selected: 1, sendable: 1, would_accept: 0, not_sendable: 0 },
    ]);
  });

  it('filters by reasons (repeatable) and event name', () => {
    const run = firelake(
      '--date',
      DAY,
      '--dry-run',
      '--json',
      '--reason',
      'too_late',
      '--reason',
      'invalid_json',
    );
    expect((JSON.parse(run.stdout) as ReplayReport).by_reason.map((r) => [r.reason, r.selected])).toEqual([
      ['too_late', 1],
    ]);
    const games = firelake('--date', DAY, '--dry-run', '--json', '--event-name', 'game:completed');
    expect((JSON.parse(games.stdout) as ReplayReport).selected).toBe(2);
  });

  it('refuses a --fix that does not return payload, or does not parse, before reading or sending anything', () => {
    const noPayload = join(dir, 'no-payload.sql');
    writeFileSync(noPayload, 'SELECT origin, reason FROM quarantined');
    let run = firelake('--date', DAY, '--fix', noPayload);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the fix ${noPayload} returns no column named payload (it returns origin, reason)`,
    );
    expect(run.stderr).not.toContain('unreadable');

    const broken = join(dir, 'broken.sql');
    writeFileSync(broken, 'SELEC payload FROM quarantined');
    run = firelake('--date', DAY, '--fix', broken);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the fix .*broken\.sql does not parse: Parser Error/);

    const twoStatements = join(dir, 'two.sql');
    writeFileSync(twoStatements, 'DELETE FROM selected; SELECT payload FROM quarantined');
    run = firelake('--date', DAY, '--fix', twoStatements);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('must be one SELECT statement, it has 2');

    const wrongColumn = join(dir, 'wrong-column.sql');
    writeFileSync(wrongColumn, 'SELECT paylod AS payload FROM quarantined');
    run = firelake('--date', DAY, '--fix', wrongColumn);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/does not run against the view quarantined: Binder Error.*paylod/);
  });

  it('refuses an unknown reason, and duplicate tombstones, naming the reasons it knows', () => {
    let run = firelake('--date', DAY, '--reason', 'schema_violation', '--reason', 'typo');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'unknown reason "typo": one of invalid_utf8, invalid_json, schema_violation',
    );
    run = firelake('--date', DAY, '--reason', 'duplicate');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('duplicate tombstones are never replayed');
  });

  it('says so and exits 0 when a range holds nothing to replay', () => {
    const run = firelake('--from', '2026-10-01', '--to', '2026-10-31');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('nothing to replay: no record matches the selection');
  });

  it('refuses a bad day, a reversed range, a missing selection and an unknown source', () => {
    expect(firelake('--date', '2026-13-01').stderr).toContain('is not a UTC day');
    expect(firelake('--from', '2026-11-21', '--to', '2026-11-20').stderr).toContain('is after --to');
    expect(firelake().stderr).toContain('give --date YYYY-MM-DD, --from D1 --to D2, or --file');
    const run = firelake('--date', DAY, '--source', 'errors');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Expected one of quarantine, processing-failed, partitioning-failed');
  });
});
