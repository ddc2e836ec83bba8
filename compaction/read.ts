import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, listValue } from '@duckdb/node-api';
import { FolderStore } from '../lake/folder-store.js';
import type { Day } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { sqlText } from './engine.js';
import { currentFiles } from './manifest.js';

// Reading curated data the way compaction publishes it: through each day's manifest.

/** The curated files of the days as local paths: in place for a folder lake, downloaded otherwise. */
export async function curatedLocalPaths(
  store: ObjectStore,
  days: readonly Day[],
  options: { downloadDir?: string } = {},
): Promise<string[]> {
  const keys = (await Promise.all(days.map((d) => currentFiles(store, d)))).flat();
  if (store instanceof FolderStore) return keys.map((k) => join(store.root, ...k.split('/')));
  if (!options.downloadDir)
    throw new Error(`reading ${store.location} needs a downloadDir for its Parquet files`);
  const paths = keys.map((k) => join(options.downloadDir!, ...k.split('/')));
  await mkdir(options.downloadDir, { recursive: true });
  for (const [i, key] of keys.entries()) await store.getToFile(key, paths[i]!);
  return paths;
}

/**
 * Creates the temp view `curated_events` over the published files of the days (see
 * compaction/sql/curated-view.sql). Returns how many files it spans; with none, the view is not
 * created (DuckDB cannot read an empty file list) and the caller decides what an empty day means.
 */
export async function createCuratedView(
  connection: DuckDBConnection,
  store: ObjectStore,
  days: readonly Day[],
  options: { downloadDir?: string } = {},
): Promise<number> {
  const paths = await curatedLocalPaths(store, days, options);
  if (paths.length === 0) return 0;
  await connection.run(sqlText('set-curated-files'), { files: listValue(paths) });
  await connection.run(sqlText('curated-view'));
  return paths.length;
}
