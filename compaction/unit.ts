import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CuratedTable } from '../iceberg/table.js';
import type { Day } from '../lake/layout.js';
import type { ObjectInfo, ObjectStore } from '../lake/store.js';
import { build, openRunEngine } from './build.js';
import type { CompactDayOptions } from './compact.js';
import { CompactionError } from './errors.js';
import { writeFieldIds } from './field-ids.js';
import type { ManifestFile } from './manifest.js';
import { readPlan, unitHashesKey, unitResultKey, unitRunId } from './plan.js';
import { withRun } from './run.js';
import { mib } from './summary.js';

// Fan-out compaction, step 2: one worker compacts one unit of a planned run. It is the day's
// compaction (build.ts `build`: keys, dedup, one COPY) on the unit's staging objects, so a
// unit's rows are exactly what a single run keeps of those objects. Its files are uploaded
// under curated/ with the unit in their run id and stay unpublished until the commit; its
// result (files, counts) and the hashes of its uuids go under the run's folder.
//
// Retry-safe: a unit run again (a worker killed, a Lambda timed out) writes the same keys over
// the earlier attempt's, and a unit whose result exists is done. No reader sees a unit's files:
// the table names them only once the commit publishes the run.

export interface UnitResult {
  day: Day;
  run_id: string;
  unit: number;
  rows_read: number;
  rows: number;
  rows_by_language: Record<string, number>;
  files: ManifestFile[];
  /** Where the hashes of the unit's event_uuids are (unit-uuids.sql), and their size. */
  uuid_hashes_key: string;
  uuid_hashes_bytes: number;
  elapsed_ms: number;
}

export interface CompactUnitOptions
  extends Pick<
    CompactDayOptions,
    | 'workDir'
    | 'memoryLimitMiB'
    | 'threads'
    | 'fileSizeBytes'
    | 'rowGroupSize'
    | 'zstdLevel'
    | 'log'
    | 'table'
  > {
  store: ObjectStore;
  day: Day;
  runId: string;
  unit: number;
}

export async function compactUnit(options: CompactUnitOptions): Promise<UnitResult> {
  const started = Date.now();
  const { store, day, runId, unit } = options;
  const log = options.log ?? (() => {});
  const resultKey = unitResultKey(day, runId, unit);
  if (await store.head(resultKey)) {
    log(`${day} unit ${unit}: already done in an earlier attempt`);
    return JSON.parse(Buffer.from(await store.get(resultKey)).toString('utf8')) as UnitResult;
  }
  const plan = await readPlan(store, day, runId);
  const planned = plan.units[unit];
  if (!planned) throw new CompactionError(`run ${runId} of ${day} has no unit ${unit}`);
  const objects: ObjectInfo[] = planned.objects.map((o) => ({ ...o, lastModified: new Date(0) }));
  const tag = `${day} unit ${unit} (${planned.first_minute}-${planned.last_minute})`;
  log(`${tag}: ${objects.length} staging objects, ${mib(planned.bytes)} gzip`);

  return withRun({ store, workDir: options.workDir, name: unitRunId(runId, unit), log }, async (run) => {
    const fieldIds = await writeFieldIds(options.table ?? new CuratedTable(store));
    const engine = await openRunEngine(run.dir, options);
    const hashesPath = join(run.dir, 'uuids.parquet');
    let built: Awaited<ReturnType<typeof build>>;
    try {
      built = await build(
        engine,
        store,
        day,
        objects,
        unitRunId(runId, unit),
        run.dir,
        { ...options, fieldIds },
        (line) => log(line.replace(day, tag)),
        run.uploaded,
      );
      await engine.run('unit-uuids', { path: hashesPath });
    } finally {
      engine.close();
    }
    const hashesKey = unitHashesKey(day, runId, unit);
    run.uploaded.push(hashesKey);
    await store.putFile(hashesKey, hashesPath, { contentType: 'application/vnd.apache.parquet' });
    const result: UnitResult = {
      day,
      run_id: runId,
      unit,
      rows_read: built.rowsRead,
      rows: built.rows,
      rows_by_language: built.rowsByLanguage,
      files: built.files,
      uuid_hashes_key: hashesKey,
      uuid_hashes_bytes: (await stat(hashesPath)).size,
      elapsed_ms: Date.now() - started,
    };
    // Written last: its presence says the unit's files are complete. From here they are the
    // commit's: it publishes them, or removes them when it does not.
    await store.put(resultKey, JSON.stringify(result), { contentType: 'application/json' });
    run.keepFiles = true;
    log(`${tag}: ${built.rows} rows in ${built.files.length} file(s), ${Date.now() - started} ms`);
    return result;
  });
}
