import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CuratedTable } from '../iceberg/table.js';
import { parseDay } from '../lake/layout.js';
import { type Built, build, openRunEngine } from './build.js';
import { writeFieldIds } from './field-ids.js';
import { inspectDay } from './inspect.js';
import { curatedSchemaVersion, type Manifest } from './manifest.js';
import type { CompactDayOptions } from './options.js';
import { publishDays } from './publish.js';
import { withRun } from './run.js';
import { type CompactionSummary, mib, publishedSummary } from './summary.js';

export type { CompactDayOptions } from './options.js';
export type { CompactionSummary } from './summary.js';

// Compaction of one UTC day: staging NDJSON.gz -> deduplicated, typed, zstd Parquet by language,
// published by one commit of the curated Iceberg table.
//
// The steps live beside this file: inspect.ts (what changed since the published run), build.ts
// (both passes over the staging objects: download.ts, upload.ts), publish.ts (the commit),
// run.ts (the work folder and the uploaded files), summary.ts (what a run reports).

/**
 * Removes work folders that runs killed mid-way left in `workDir` (a Lambda timeout leaves /tmp
 * full for the next invocation of the same sandbox). Only folders older than `olderThanMs`:
 * another run on the same machine may be using a younger one.
 */
export async function removeStaleWorkDirs(workDir: string, olderThanMs: number): Promise<number> {
  const entries = await readdir(workDir, { withFileTypes: true }).catch(() => []);
  let removed = 0;
  for (const e of entries) {
    if (!e.isDirectory() || !e.name.startsWith('firelake-compaction-')) continue;
    const path = join(workDir, e.name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs >= olderThanMs) {
      await rm(path, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Compacts one day. Throws MissingDayError, UnreadableObjectError, ConcurrentRunError, ... */
export async function compactDay(options: CompactDayOptions): Promise<CompactionSummary> {
  const started = new Date();
  const { store, day } = options;
  parseDay(day);
  const log = options.log ?? (() => {});
  const runId = options.runId ?? newRunId(started);
  const table = options.table ?? new CuratedTable(store);

  const inspected = await inspectDay({ ...options, table }, started);
  if (inspected.kind === 'unchanged') return inspected.summary;
  const { previous, objects, objectBytes } = inspected;

  log(`${day}: run ${runId}, ${objects.length} staging objects, ${mib(objectBytes)} gzip`);
  return withRun({ store, workDir: options.workDir, name: runId, log }, async (run) => {
    const fieldIds = await writeFieldIds(table);
    const engine = await openRunEngine(run.dir, options);
    let built: Built;
    try {
      built = await build(
        engine,
        store,
        day,
        objects,
        runId,
        run.dir,
        { ...options, fieldIds },
        log,
        run.uploaded,
      );
    } finally {
      engine.close();
    }

    const manifest: Manifest = {
      format: 1,
      day,
      run_id: runId,
      started_at: started.toISOString(),
      published_at: '',
      schema_version: curatedSchemaVersion(),
      rows: built.rows,
      rows_by_language: built.rowsByLanguage,
      files: built.files,
      staging_objects: objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size })),
      rows_read: built.rowsRead,
      duplicates_dropped: built.rowsRead - built.rows,
    };
    await options.beforePublish?.(runId);
    const published = await publishDays(run, table, [{ manifest, previous }], {
      started,
      log,
      retentionMs: options.retentionMs,
    });
    log(
      `${day}: published run ${runId} as snapshot ${published.commit.snapshotId}: ${built.rows} rows in ${built.files.length} file(s)`,
    );
    return publishedSummary(manifest, previous, objects.length, objectBytes, published, started);
  });
}
