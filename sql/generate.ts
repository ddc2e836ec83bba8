// Writes the files of sql/lake/ that derive from the event catalog: `npx tsx sql/generate.ts`.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeEmptyCurated } from '../events/curated.js';
import { withDuckDb } from '../lake/duckdb.js';
import { catalogSql } from './catalog.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'lake');
writeFileSync(join(dir, 'catalog.sql'), catalogSql());
await withDuckDb((db) => writeEmptyCurated(db.connection, join(dir, 'empty-curated.parquet')));
console.error(`wrote ${dir}/catalog.sql and ${dir}/empty-curated.parquet`);
