import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { listValue } from '@duckdb/node-api';
import { type DuckDbType, specificsFields, writeEmptyCurated } from '../events/curated.js';
import { CuratedTable } from '../iceberg/table.js';
import { type Day, dayPrefix, parseDay } from '../lake/layout.js';
import { listAll, type ObjectStore } from '../lake/store.js';
import { backfillMacros, movedQuery } from './backfill-sql.js';
import { DEFAULT_FILE_SIZE_BYTES, DEFAULT_ROW_GROUP_SIZE, DEFAULT_ZSTD_LEVEL } from './build.js';
import { type CompactionSummary, compactDay, newRunId } from './compact.js';
import { openEngine } from './engine.js';
import { CompactionError, UnreadableObjectError } from './errors.js';
import { writeFieldIds } from './field-ids.js';
import { adoptDayManifests } from './legacy.js';
import { curatedSchemaVersion, type Manifest, type ManifestVersion, readManifest } from './manifest.js';
import { publishDays } from './publish.js';
import { withRun } from './run.js';
import { uploadPlannedFiles } from './upload.js';

// `firelake backfill`: rewrites compacted days after the catalog adopted fields that lived in
// `extras`, so that each becomes its column. A day whose staging objects are all still there is
// recompacted from staging (compactDay, forced); a day whose staging expired (even in part) is
// rewritten from its curated Parquet: every row kept as it is, the adopted fields' values moved
// from extras into event_specifics. Either way the day is replaced in one commit of the table, as
// compaction does (publishDays), so readers see the old day or the new one. The table's schema
// gains each adopted field as a column with a new field id; files written before read it as null.

/** Days one backfill may span: a year (a wider range is more likely a typo). */
export const MAX_BACKFILL_DAYS = 366;
const DAY_MS = 86_400_000;

export class BackfillError extends CompactionError {
  static override readonly code: string = 'BACKFILL_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackfillError';
  }
}

export interface BackfillOptions {
  store: ObjectStore;
  from: Day;
  to: Day;
  /** The adopted fields to move out of extras (default: every field the catalog names). */
  fields?: readonly string[];
  workDir?: string;
  memoryLimitMiB?: number;
  threads?: number;
  log?: (line: string) => void;
  table?: CuratedTable;
}

export interface BackfillDay {
  day: Day;
  source: 'staging' | 'curated';
  run_id: string;
  previous_run_id: string;
  rows: number;
  /** Values moved from extras into their column, by field (from curated; null from staging). */
  moved: Record<string, number> | null;
  files: number;
}

/** The days from..to, checked: a valid range, at most MAX_BACKFILL_DAYS. */
export function backfillDays(from: Day, to: Day): Day[] {
  const first = parseDay(from).startMs;
  const last = parseDay(to).startMs;
  if (last < first) throw new BackfillError(`--to ${to} is before --from ${from}`);
  const count = (last - first) / DAY_MS + 1;
  if (count > MAX_BACKFILL_DAYS)
    throw new BackfillError(`${count} days from ${from} to ${to}: at most ${MAX_BACKFILL_DAYS} at once`);
  return Array.from({ length: count }, (_, i) => new Date(first + i * DAY_MS).toISOString().slice(0, 10));
}

/** The adopted fields, checked against the catalog. */
export function backfillFields(fields: readonly string[] | undefined): { name: string; type: DuckDbType }[] {
  const catalog = specificsFields();
  if (fields === undefined || fields.length === 0) return catalog;
  const byName = new Map(catalog.map((f) => [f.name, f]));
  const unknown = fields.filter((f) => !byName.has(f));
  if (unknown.length > 0) {
    throw new BackfillError(
      `${unknown.map((f) => `"${f}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a field of the ` +
        'catalog (events/schemas.ts): add it to a schema first, then backfill',
    );
  }
  return [...new Set(fields)].map((f) => byName.get(f)!);
}

/**
 * Backfills every day from..to. Everything is checked before the first day is touched: the
 * range, the fields, and that every day was compacted.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillDay[]> {
  const days = backfillDays(options.from, options.to);
  const fields = backfillFields(options.fields);
  const log = options.log ?? (() => {});
  const table = options.table ?? new CuratedTable(options.store);
  await adoptDayManifests(table, log);
  const state = await table.state();
  const manifests = new Map<Day, ManifestVersion>();
  const never: Day[] = [];
  for (const day of days) {
    const version = state ? await readManifest(options.store, day, { table, state }) : undefined;
    if (version) manifests.set(day, version);
    else never.push(day);
  }
  if (never.length > 0) {
    throw new BackfillError(
      `${never.join(', ')} ${never.length === 1 ? 'was' : 'were'} never compacted (not in the curated table): nothing to backfill there; run firelake compact --date D first. Nothing was changed`,
    );
  }
  const out: BackfillDay[] = [];
  for (const day of days) {
    const previous = manifests.get(day)!;
    const present = new Set((await listAll(options.store, dayPrefix('staging', day))).map((o) => o.key));
    const stagingKept =
      previous.manifest.staging_objects.length > 0 &&
      previous.manifest.staging_objects.every((o) => present.has(o.key));
    let summary: CompactionSummary | undefined;
    if (stagingKept) {
      log(`${day}: staging is all there: recompacting from staging`);
      try {
        summary = await compactDay({
          store: options.store,
          day,
          force: true,
          workDir: options.workDir,
          memoryLimitMiB: options.memoryLimitMiB,
          threads: options.threads,
          table,
          log,
        });
      } catch (error) {
        // An adopted field staged with values of another JSON type ("lots" where the catalog
        // now says integer) cannot be read into its column: curated keeps such values in extras.
        if (!(error instanceof UnreadableObjectError)) throw error;
        log(
          `${day}: staging does not read under the current catalog (${error.message}): rewriting from curated`,
        );
      }
    }
    if (summary) {
      out.push({
        day,
        source: 'staging',
        run_id: summary.run_id,
        previous_run_id: previous.manifest.run_id,
        rows: summary.rows,
        moved: null,
        files: summary.files.length,
      });
    } else {
      log(`${day}: rewriting from curated run ${previous.manifest.run_id}`);
      out.push(await fromCurated(options, table, day, previous, fields, log));
    }
  }
  return out;
}

async function fromCurated(
  options: BackfillOptions,
  table: CuratedTable,
  day: Day,
  previous: ManifestVersion,
  fields: readonly { name: string; type: DuckDbType }[],
  log: (line: string) => void,
): Promise<BackfillDay> {
  const { store } = options;
  const started = new Date();
  const runId = newRunId(started);
  return withRun({ store, workDir: options.workDir, name: `backfill-${runId}`, log }, async (run) => {
    const { dir } = run;
    await mkdir(join(dir, 'in'), { recursive: true });
    const fieldIds = await writeFieldIds(table);
    const engine = await openEngine({
      dir: join(dir, 'duckdb'),
      memoryLimitMiB: options.memoryLimitMiB ?? Math.floor((totalmem() / 2 ** 20) * 0.6),
      threads: options.threads ?? availableParallelism(),
    });
    let built: {
      files: Manifest['files'];
      rowsByLanguage: Record<string, number>;
      moved: Record<string, number>;
    };
    try {
      const sentinel = join(dir, 'current-schema.parquet');
      await writeEmptyCurated(engine.connection, sentinel);
      const paths: string[] = [];
      for (const [i, file] of previous.manifest.files.entries()) {
        const path = join(dir, 'in', `${i}.parquet`);
        await store.getToFile(file.key, path);
        paths.push(path);
      }
      const files = listValue([sentinel, ...paths]);
      for (const statement of backfillMacros(fields)) await engine.connection.run(statement);
      await engine.run('create-keys');
      await engine.run('backfill-keys', { files });
      const rows = previous.manifest.rows;
      const bytes = previous.manifest.files.reduce((sum, f) => sum + f.bytes, 0);
      await engine.run('file-plan', {
        bytes_per_row: rows > 0 ? bytes / rows : 0,
        file_size_bytes: DEFAULT_FILE_SIZE_BYTES,
      });
      const outDir = join(dir, 'out');
      if (rows > 0) {
        await engine.run('backfill-day', {
          files,
          dir: outDir,
          row_group_size: DEFAULT_ROW_GROUP_SIZE,
          zstd_level: DEFAULT_ZSTD_LEVEL,
          field_ids: fieldIds,
        });
      }
      const counted = await engine.connection.runAndReadAll(movedQuery(fields), { files });
      const moved = Object.fromEntries(
        Object.entries(counted.getRowObjectsJson()[0] ?? {}).map(([f, n]) => [f, Number(n ?? 0)]),
      );
      await rm(join(dir, 'in'), { recursive: true, force: true });
      const uploadedFiles = await uploadPlannedFiles(engine, store, day, runId, outDir, log, run.uploaded);
      built = { ...uploadedFiles, moved };
    } finally {
      engine.close();
    }
    const rows = built.files.reduce((sum, f) => sum + f.rows, 0);
    if (rows !== previous.manifest.rows) {
      throw new BackfillError(
        `${day}: ${previous.manifest.rows} rows published, but ${rows} rows rewritten: not publishing`,
      );
    }
    const manifest: Manifest = {
      ...previous.manifest,
      run_id: runId,
      started_at: started.toISOString(),
      published_at: '',
      schema_version: curatedSchemaVersion(),
      rows,
      rows_by_language: built.rowsByLanguage,
      files: built.files,
    };
    await publishDays(run, table, [{ manifest, previous }], { started, log });
    const moved = Object.entries(built.moved)
      .filter(([, n]) => n > 0)
      .map(([f, n]) => `${f} ${n}`);
    log(`${day}: published run ${runId}: ${rows} rows; moved from extras: ${moved.join(', ') || 'nothing'}`);
    return {
      day,
      source: 'curated',
      run_id: runId,
      previous_run_id: previous.manifest.run_id,
      rows,
      moved: built.moved,
      files: built.files.length,
    } satisfies BackfillDay;
  });
}
