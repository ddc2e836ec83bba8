// The whole quality scorecard over one curated hour at 1M events/hour, beside a bare full-column
// scan of the same Parquet files in the same run: the ratio is the figure. The hour is built
// straight from the generator's NDJSON (bench/staged-stretch.ts); the curated Parquet and its
// manifest are written with DuckDB from those objects.
//
//   npm run bench quality              (FIRELAKE_BENCH_EVENTS=200000 for a quicker run)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listValue } from '@duckdb/node-api';
import { compactDay } from '../compaction/compact.js';
import { readManifest } from '../compaction/manifest.js';
import { openDuckDb } from '../lake/duckdb.js';
import { FolderStore } from '../lake/folder-store.js';
import { LakeDay } from '../sql/runner.js';
import { runScorecard, SCORECARD_QUERIES } from '../sql/scorecard.js';
import { peakRssMiB, report } from './report.js';
import { buildStagedStretch } from './staged-stretch.js';

const DAY = '2026-11-20';
const HOUR = 14;
const EVENTS = Number(process.env.FIRELAKE_BENCH_EVENTS ?? 1_000_000);

const root = mkdtempSync(join(tmpdir(), 'firelake-bench-quality-'));
try {
  const store = new FolderStore(join(root, 'lake'));
  let t = performance.now();
  const built = await buildStagedStretch(store, {
    start: Date.UTC(2026, 10, 20, HOUR),
    durationMs: 3_600_000,
    events: EVENTS,
  });
  const buildSeconds = (performance.now() - t) / 1000;
  console.log(
    `hour: ${built.events.toLocaleString('en-US')} events, ${built.lines.toLocaleString('en-US')} staged lines ` +
      `in ${built.objects} objects, ${(built.gzBytes / 2 ** 20).toFixed(1)} MiB gzip (${buildSeconds.toFixed(1)} s)`,
  );
  t = performance.now();
  // Curated Parquet and its snapshot, by the real compaction (this bench measures the scorecard,
  // not compaction: bench/compaction.bench.ts does).
  await compactDay({ store, day: DAY });
  const { manifest } = (await readManifest(store, DAY))!;
  const curatedRows = manifest.rows;
  console.log(
    `compacted: ${curatedRows.toLocaleString('en-US')} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  // The scorecard, end to end: open the day (list, read staging and quarantine), every check.
  const asOf = new Date(`${DAY}T23:59:59Z`);
  t = performance.now();
  const card = await runScorecard({ store, day: DAY, asOf });
  const scorecardSeconds = (performance.now() - t) / 1000;
  console.log(
    `scorecard: ${card.status} (${card.counts.pass} pass, ${card.counts.warn} warn, ${card.counts.fail} fail)`,
  );
  for (const c of card.checks.filter((x) => x.status !== 'pass'))
    console.log(`  ${c.status} ${c.id}: ${c.detail}`);

  // Where the time goes: opening the day, then each query.
  t = performance.now();
  const lake = await LakeDay.open({ store, day: DAY, asOf });
  const openSeconds = (performance.now() - t) / 1000;
  const perQuery: Record<string, number> = {};
  for (const name of SCORECARD_QUERIES) {
    t = performance.now();
    await lake.query(`quality/${name}.sql`);
    perQuery[`query_${name}_s`] = (performance.now() - t) / 1000;
  }
  await lake.close();

  // The baseline: every column of the same Parquet files, read and hashed, in a fresh DuckDB.
  const files = manifest.files.map((f) => join(store.root, f.key));
  const db = await openDuckDb();
  const connection = db.connection;
  t = performance.now();
  const scan = await connection.runAndReadAll(
    'SELECT count(*)::BIGINT AS n, max(hash(COLUMNS(*))) FROM read_parquet($1::VARCHAR[])',
    [listValue(files)],
  );
  const scanSeconds = (performance.now() - t) / 1000;
  const scanned = Number(scan.getRows()[0]![0]);
  db.close();

  report('quality', {
    events: built.events,
    staged_lines: built.lines,
    staging_gzip_mib: built.gzBytes / 2 ** 20,
    curated_rows: curatedRows,
    curated_rows_scanned: scanned,
    scorecard_seconds: scorecardSeconds,
    scorecard_status: card.status,
    open_day_seconds: openSeconds,
    ...perQuery,
    bare_parquet_scan_seconds: scanSeconds,
    scorecard_over_scan_ratio: scorecardSeconds / scanSeconds,
    scorecard_events_per_second: built.events / scorecardSeconds,
    peak_rss_mib: peakRssMiB(),
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
