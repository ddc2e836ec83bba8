import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listValue } from '@duckdb/node-api';
import { curatedFileKey, type Day } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import type { Engine } from './engine.js';
import type { ManifestFile } from './manifest.js';
import { mib } from './summary.js';

// Uploading the Parquet files a run wrote to the day's curated folder (unpublished until the
// manifest switch).

/**
 * Uploads the Parquet files a COPY wrote under `outDir` by file_plan (`_language_id=` folders)
 * as the day's curated files of run `runId`, recording each key in `uploaded` first.
 */
export async function uploadPlannedFiles(
  engine: Engine,
  store: ObjectStore,
  day: Day,
  runId: string,
  outDir: string,
  log: (line: string) => void,
  uploaded: string[],
): Promise<{ files: ManifestFile[]; rowsByLanguage: Record<string, number> }> {
  const files: ManifestFile[] = [];
  const rowsByLanguage: Record<string, number> = {};
  const plan = await engine.rows<{ language_id: number; language: string }>('rows-by-language');
  for (const { language_id, language } of plan) {
    const parts = await parquetFilesUnder(join(outDir, `_language_id=${language_id}`));
    if (parts.length === 0) continue;
    const fileRows = await engine.rows<{ file_name: string; rows: string }>('file-rows', {
      files: listValue(parts),
    });
    const rowsOf = new Map(fileRows.map((c) => [c.file_name, Number(c.rows)]));
    for (const [n, path] of parts.entries()) {
      const key = curatedFileKey(day, partitionValue(language), runId, n);
      const bytes = (await stat(path)).size;
      const rows = rowsOf.get(path) ?? 0;
      uploaded.push(key);
      await store.putFile(key, path, { contentType: 'application/vnd.apache.parquet' });
      await rm(path);
      files.push({ key, language, rows, bytes });
      rowsByLanguage[language] = (rowsByLanguage[language] ?? 0) + rows;
      log(`${day}: wrote ${key} (${rows} rows, ${mib(bytes)})`);
    }
  }
  return { files, rowsByLanguage };
}

/** A language code as a key segment: anything but [A-Za-z0-9_-] is percent-encoded, as Hive does. */
export function partitionValue(language: string): string {
  return language.replace(/[^A-Za-z0-9_-]/g, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** Every .parquet file under a folder (the partition folders DuckDB wrote), in a stable order. */
async function parquetFilesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => join(e.parentPath, e.name))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}
