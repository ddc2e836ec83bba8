import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listValue } from '@duckdb/node-api';
import { CuratedTable } from '../iceberg/table.js';
import type { Day } from '../lake/layout.js';
import { listAll, type ObjectStore } from '../lake/store.js';
import { openRunEngine } from './build.js';
import type { CompactDayOptions, CompactionSummary } from './compact.js';
import type { Engine } from './engine.js';
import { CompactionError } from './errors.js';
import type { Manifest } from './manifest.js';
import { type FanOutPlan, readPlan, runPrefix, unitResultKey } from './plan.js';
import { publishDays } from './publish.js';
import { withRun } from './run.js';
import { publishedSummary } from './summary.js';
import type { UnitResult } from './unit.js';

// Fan-out compaction, step 3: the commit. Every unit must have its result; no event_uuid may
// have been written by two units; then the union of the units' files becomes the day in one
// snapshot of the table, the same commit as a single run's (publishDays), so readers see the old
// day or the new day, never a mix, and of two runs of a day only one publishes.

/** A unit of the run has no result: it failed or never ran. Nothing is published. */
export class UnitMissingError extends CompactionError {
  static override readonly code: string = 'COMPACTION_UNIT_MISSING';
  constructor(
    readonly day: Day,
    readonly runId: string,
    readonly units: number[],
  ) {
    super(
      `run ${runId} of ${day}: ${units.length} unit(s) have no result (first: unit ${units[0]}); nothing was published`,
    );
    this.name = 'UnitMissingError';
  }
}

/**
 * An event_uuid was written by two units: staged under two minutes, which the transform never
 * does for one event (a producer reused the uuid with another created_at, past the dedup
 * window). Unit dedup cannot see that; the day must be compacted in a single run.
 */
export class CrossUnitDuplicateError extends CompactionError {
  static override readonly code: string = 'CROSS_UNIT_DUPLICATE';
  constructor(
    readonly day: Day,
    readonly uuids: string[],
  ) {
    super(
      `${uuids.length} event_uuid(s) of ${day} were written by two units (first: ${uuids[0]}), so they ` +
        'were staged under two minutes; nothing was published. Compact the day in one run: ' +
        `firelake compact --date ${day} --workers 1`,
    );
    this.name = 'CrossUnitDuplicateError';
  }
}

/** A run folder this old belongs to a run that died: no unit runs for a day. */
const STALE_RUN_MS = 24 * 3_600_000;

export interface CommitDayOptions
  extends Pick<
    CompactDayOptions,
    'workDir' | 'memoryLimitMiB' | 'threads' | 'log' | 'beforePublish' | 'table'
  > {
  store: ObjectStore;
  day: Day;
  runId: string;
}

export async function commitDay(options: CommitDayOptions): Promise<CompactionSummary> {
  const { store, day, runId } = options;
  const log = options.log ?? (() => {});
  const table = options.table ?? new CuratedTable(store);
  const plan = await readPlan(store, day, runId);
  const started = new Date(plan.started_at);
  let committed = false;
  try {
    const results = await readUnitResults(store, plan);
    return await withRun({ store, workDir: options.workDir, name: `${runId}-commit`, log }, async (run) => {
      // Every file of the run: removed if it does not publish.
      run.uploaded.push(...results.flatMap((r) => [...r.files.map((f) => f.key), r.uuid_hashes_key]));
      const engine = await openRunEngine(run.dir, options);
      try {
        const repeated = await uuidsInTwoUnits(engine, store, results, run.dir);
        if (repeated.length > 0) throw new CrossUnitDuplicateError(day, repeated);
      } finally {
        engine.close();
      }

      const rowsRead = results.reduce((sum, r) => sum + r.rows_read, 0);
      const rows = results.reduce((sum, r) => sum + r.rows, 0);
      const rowsByLanguage: Record<string, number> = {};
      for (const r of results) {
        for (const [language, n] of Object.entries(r.rows_by_language))
          rowsByLanguage[language] = (rowsByLanguage[language] ?? 0) + n;
      }
      const files = results.flatMap((r) => r.files);
      const manifest: Manifest = {
        format: 1,
        day,
        run_id: runId,
        started_at: plan.started_at,
        published_at: '',
        schema_version: plan.schema_version,
        rows,
        rows_by_language: Object.fromEntries(
          Object.entries(rowsByLanguage).sort(([a], [b]) => (a < b ? -1 : 1)),
        ),
        files,
        staging_objects: plan.objects,
        rows_read: rowsRead,
        duplicates_dropped: rowsRead - rows,
      };
      await options.beforePublish?.(runId);
      const previous = plan.previous ?? undefined;
      const published = await publishDays(run, table, [{ manifest, previous }], { started, log });
      committed = true;
      log(
        `${day}: published run ${runId} as snapshot ${published.commit.snapshotId}: ${rows} rows in ${files.length} file(s) from ${results.length} units`,
      );
      const objectBytes = plan.objects.reduce((sum, o) => sum + o.size, 0);
      return {
        ...publishedSummary(manifest, previous, plan.objects.length, objectBytes, published, started),
        units: results.length,
      };
    });
  } finally {
    // Folders of runs that never committed: only old ones, a younger one may be a run at work.
    await removeRunFolders(
      store,
      day,
      runId,
      committed ? new Date(started.getTime() - STALE_RUN_MS) : undefined,
      log,
    );
  }
}

/** Every unit's result, in unit order; UnitMissingError names those without one. */
export async function readUnitResults(store: ObjectStore, plan: FanOutPlan): Promise<UnitResult[]> {
  const present = new Set((await listAll(store, runPrefix(plan.day, plan.run_id))).map((o) => o.key));
  const missing = plan.units
    .map((u) => u.index)
    .filter((i) => !present.has(unitResultKey(plan.day, plan.run_id, i)));
  if (missing.length > 0) throw new UnitMissingError(plan.day, plan.run_id, missing);
  return Promise.all(
    plan.units.map(
      async (u) =>
        JSON.parse(
          Buffer.from(await store.get(unitResultKey(plan.day, plan.run_id, u.index))).toString('utf8'),
        ) as UnitResult,
    ),
  );
}

/**
 * The day-wide uniqueness check: hashes seen in two units' hash files, then, for those units
 * only, the uuids behind them read from their curated files (a 64-bit collision between two
 * different uuids, about one in 10^5 days at 24M events, is not a duplicate).
 */
async function uuidsInTwoUnits(
  engine: Engine,
  store: ObjectStore,
  results: readonly UnitResult[],
  dir: string,
): Promise<string[]> {
  const hashDir = join(dir, 'uuids');
  await mkdir(hashDir, { recursive: true });
  const hashPaths = results.map((r) => join(hashDir, `${r.unit}.parquet`));
  await Promise.all(results.map((r, i) => store.getToFile(r.uuid_hashes_key, hashPaths[i]!)));
  const candidates = await engine.rows<{ h: string }>('cross-unit-hashes', { files: listValue(hashPaths) });
  if (candidates.length === 0) return [];
  // Rare: read the event_uuid column of every file (only then are the curated files fetched).
  const fileDir = join(dir, 'files');
  await mkdir(fileDir, { recursive: true });
  const files = results.flatMap((r) => r.files);
  const paths = files.map((_, i) => join(fileDir, `${i}.parquet`));
  for (const [i, f] of files.entries()) await store.getToFile(f.key, paths[i]!);
  const rows = await engine.rows<{ event_uuid: string }>('cross-unit-uuids', {
    files: listValue(paths),
    hashes: listValue(candidates.map((c) => c.h)),
  });
  return rows.map((r) => r.event_uuid);
}

/** Removes the run's folder, and the folders of this day's earlier runs that never committed. */
async function removeRunFolders(
  store: ObjectStore,
  day: Day,
  runId: string,
  olderThan: Date | undefined,
  log: (line: string) => void,
): Promise<void> {
  try {
    const own = runPrefix(day, runId);
    const stale = (await listAll(store, runPrefix(day)))
      .filter((o) => o.key.startsWith(own) || (olderThan !== undefined && o.lastModified < olderThan))
      .map((o) => o.key);
    await store.delete(stale);
  } catch (error) {
    log(`${day}: could not remove the run folder of ${runId}: ${(error as Error).message}`);
  }
}
