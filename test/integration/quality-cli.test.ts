import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCsv, toTable } from '../../cli/query.js';
import { FolderStore } from '../../lake/folder-store.js';
import type { Scorecard } from '../../sql/scorecard.js';
import { firelake, REFUSING_S3 } from '../support/cli.js';
import { fixtureDay } from '../support/fixture/events.js';
import { writeDay } from '../support/fixture/lake.js';

// The commands as a scheduler runs them: exit codes, stdout for results, stderr for errors.

const DAY = '2026-11-20';
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'firelake-quality-cli-'));
  const clean = fixtureDay(DAY);
  await writeDay(new FolderStore(join(dir, 'clean')), { day: DAY, stagedLines: clean.stagedLines });
  const faulty = fixtureDay(DAY, { completedOverTotal: 2 });
  await writeDay(new FolderStore(join(dir, 'faulty')), { day: DAY, stagedLines: faulty.stagedLines });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('firelake quality', () => {
  it('exits 0 with a table when every check passes', () => {
    const run = firelake(
      'quality',
      '--date',
      DAY,
      '--lake',
      join(dir, 'clean'),
      '--as-of',
      '2026-11-21T00:00:00Z',
    );
    expect(run.stderr).not.toMatch(/firelake:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PASS\s+consistency\.completed_over_total\s+0/m);
    expect(run.stdout).toMatch(/PASS: \d+ pass, 0 warn, 0 fail/);
  });

  it('exits 1 with the scorecard as JSON when a check fails', () => {
    const run = firelake(
      'quality',
      '--date',
      DAY,
      '--lake',
      join(dir, 'faulty'),
      '--json',
      '--as-of',
      '2026-11-21T00:00:00Z',
    );
    expect(run.code).toBe(1);
    const card = JSON.parse(run.stdout) as Scorecard;
    expect(card.status).toBe('fail');
    expect(card.checks.find((c) => c.id === 'consistency.completed_over_total')).toMatchObject({
      figure: 2,
      status: 'fail',
    });
  });

  it('says what is wrong with a bad date, on stderr', () => {
    const run = firelake('quality', '--date', '2026-11-31', '--lake', join(dir, 'clean'));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/not a UTC day/);
    expect(run.stdout).toBe('');
  });
});

describe('firelake query', () => {
  it('prints rows as a table or as CSV', () => {
    const result = {
      columns: ['day', 'note'],
      rows: [
        { day: '2026-11-20', note: 'a, "b"' },
        { day: null, note: 1.5 },
      ],
    };
    expect(toCsv(result)).toBe('day,note\n2026-11-20,"a, ""b"""\n,1.5');
    expect(toTable(result).split('\n')).toEqual([
      'day         note',
      '----------  ------',
      '2026-11-20  a, "b"',
      '            1.5',
    ]);
  });

  it('says when the day has no data, and exits 1', () => {
    const none = firelake('query', 'sessions', '--date', '2026-10-01', '--lake', join(dir, 'clean'));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no data for 2026-10-01/);
  });
});

describe('the firelake CLI', () => {
  it("keeps the AWS SDK's Node version notice out of a user's terminal", () => {
    // As a user runs it: bin/firelake.js, no test runner's environment, an S3 lake that refuses.
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const run = spawnSync(
      process.execPath,
      ['bin/firelake.js', 'quality', '--lake', REFUSING_S3.lake, '--date', '2026-11-20'],
      { encoding: 'utf8', env: { ...env, ...REFUSING_S3.env } },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('could not read s3://nobucket/');
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
  });
});
