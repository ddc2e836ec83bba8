import { basename, dirname } from 'node:path';
import type { Day } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { LakeDay, listQueries, NoDataError, type QueryResult, resolveSqlFile, SQL_DIR } from './runner.js';

export { listQueries, type QueryResult };

export interface RunQueryOptions {
  store: ObjectStore;
  day: Day;
  /** A query name of sql/ or a path to any .sql file. */
  query: string;
  /** Read the curated table as a snapshot held it (`--as-of`): by id, or the one current at a time. */
  snapshot?: { snapshotId?: number; time?: Date };
}

/** Runs one query over one day of the lake; says what is missing when there is nothing to read. */
export async function runQuery(options: RunQueryOptions): Promise<QueryResult> {
  const path = resolveSqlFile(options.query);
  const lake = await LakeDay.open({ store: options.store, day: options.day, snapshot: options.snapshot });
  try {
    const reason = lake.noDataReason();
    if (reason) throw new NoDataError(reason);
    // Analytics read curated Parquet only: an uncompacted day would give empty answers, not errors.
    if (dirname(path) === `${SQL_DIR}/analytics` && !lake.inventory.compacted) {
      throw new NoDataError(
        `${options.day} is not compacted in ${options.store.location} (the curated table does not hold it), ` +
          `so ${basename(path, '.sql')} has nothing to read: run firelake compact --date ${options.day}`,
      );
    }
    return await lake.query(path);
  } finally {
    await lake.close();
  }
}
