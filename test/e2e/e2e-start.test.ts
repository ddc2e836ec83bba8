import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { firehoseClient } from '../../aws/firehose.js';
import { FolderStore } from '../../lake/folder-store.js';
import { type RunOptions, runLocalPipeline } from '../../local/start.js';
import { readLines } from '../support/lake-read.js';

// `npm start` as a function, twice on the same data folder: the second run finds dynalite's
// tables and the lake from the first and still accounts for every record it sent.

const dir = mkdtempSync(join(tmpdir(), 'firelake-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (seed: number): RunOptions => ({
  dataDir: dir,
  lake: join(dir, 'lake'),
  generator: { seed, durationMs: 2_000, duplicateRate: 0.02, badRate: 0.02, conflictRate: 0.01 },
  compact: true,
  quality: true,
  firehoseClient: () => firehoseClient(),
  log: () => {},
});

describe('npm start', () => {
  it('runs the pipeline end to end, and again on the data of the first run', async () => {
    const first = await runLocalPipeline(options(11));
    expect(first.accounted).toBe(true);
    expect(first.staged).toBe(first.generator.unique_events);
    expect(first.quarantined_by_reason.duplicate).toBe(first.generator.duplicates);
    expect(first.errors).toBe(0);
    // Packed by default: events and Firehose records counted apart, many events a record.
    expect(first.received).toBe(first.sent);
    expect(first.firehose_records * 5).toBeLessThan(first.received);
    expect(first.compaction.map((c) => c.status)).toEqual(first.days.map(() => 'published'));
    expect(first.quality.length).toBeGreaterThan(0);
    expect(first.quality.every((q) => q.status !== 'error')).toBe(true);
    expect(first.not_run).toEqual([]);
    // The simulated stretch is a backfill: set apart from freshness, not failed on it, and the
    // day's report is written beside the summary.
    expect(first.backfill.reduce((sum, b) => sum + b.events, 0)).toBe(first.staged);
    expect(first.pipeline_latency_ms.p50).toBeGreaterThan(0);
    for (const q of first.quality) {
      expect(q.report).toBe(join(dir, 'reports', `${q.day}.html`));
      expect(readFileSync(q.report!, 'utf8')).toMatch(/<figure class="chart" id="chart-flow"/);
    }

    const second = await runLocalPipeline(options(12));
    expect(second.accounted).toBe(true);
    // New events only: nothing of the second run is taken for a duplicate of the first.
    expect(second.staged).toBe(second.generator.unique_events);
    expect(second.quarantined_by_reason.duplicate).toBe(second.generator.duplicates);
    expect(second.compaction.every((c) => c.status === 'published')).toBe(true);

    const store = new FolderStore(join(dir, 'lake'));
    const staged = await readLines(store, 'staging/');
    expect(staged).toHaveLength(first.staged + second.staged);
    expect(second.duckdb_commands.join('\n')).toContain(join(dir, 'lake'));
  });
});
