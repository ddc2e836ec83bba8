// Compaction of one generated hour at 1M events/hour, beside two baselines on the same files in
// the same run: a bare DuckDB COPY (SELECT * FROM read_ndjson(...)) TO ... (FORMAT parquet), and
// parquetjs-lite writing the same rows. Each contender runs in its own child process, so each
// peak RSS is its own. Target: compaction at >= 0.7x the bare COPY's rows/s.
//
//   npm run bench compaction            (FIRELAKE_BENCH_EVENTS=200000 for a quicker run)
//   FIRELAKE_BENCH_EXTRAS_SHARE=0.01    share of events with fields the catalog does not name
//   FIRELAKE_BENCH_PARQUETJS=0          skip parquetjs-lite (minutes per million rows)
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { listValue } from '@duckdb/node-api';
// @ts-expect-error parquetjs-lite ships no types
import parquet from 'parquetjs-lite';
import { compactDay } from '../compaction/compact.js';
import { curatedColumns, specificsFields } from '../events/curated.js';
import type { StagedEvent } from '../events/types.js';
import { openDuckDb } from '../lake/duckdb.js';
import { FolderStore } from '../lake/folder-store.js';
import { dayPrefix } from '../lake/layout.js';
import { listAll } from '../lake/store.js';
import { ndjsonGz, rng, stagedEvent, stagingKey } from '../test/compaction-staging.js';
import { report } from './report.js';

const DAY = '2026-11-20';
const HOUR = 14;
const EVENTS = Number(process.env.FIRELAKE_BENCH_EVENTS ?? 1_000_000);
/** Share of events carrying fields the catalog does not name (curated `extras`). */
const EXTRAS_SHARE = Number(process.env.FIRELAKE_BENCH_EXTRAS_SHARE ?? 0.01);
const WITH_PARQUETJS = process.env.FIRELAKE_BENCH_PARQUETJS !== '0';
/** Share of lines Firehose delivers twice (at-least-once): compaction must drop them. */
const DUPLICATE_SHARE = 0.01;
const MEMORY_LIMIT_MIB = 4096;
const THREADS = 2;

interface ChildResult {
  ms: number;
  /** CPU seconds of the process (all threads): steadier than wall time on a shared machine. */
  cpuS: number;
  rows: number;
  outputBytes: number;
  peakRssMiB: number;
  /** The Iceberg commit's own time (compaction only): metadata written, swapped, cleaned up. */
  commitMs?: number;
}

const [mode, lake, out] = process.argv.slice(2);
if (mode) {
  const result = await runChild(mode, lake!, out!);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---- parent: build the hour, run each contender in a child, report ---------------------------

const root = mkdtempSync(join(tmpdir(), 'firelake-bench-compaction-'));
try {
  const lakeDir = join(root, 'lake');
  const generated = await generateHour(new FolderStore(lakeDir));
  console.log(
    `hour: ${generated.lines.toLocaleString('en-US')} lines (${generated.duplicates.toLocaleString('en-US')} redelivered) in ` +
      `${generated.objects} objects, ${(generated.gzBytes / 2 ** 20).toFixed(1)} MiB gzip`,
  );
  const results: Record<string, ChildResult> = {};
  const contenders = ['compaction', 'duckdb-copy', ...(WITH_PARQUETJS ? ['parquetjs-lite'] : [])];
  for (const contender of contenders) {
    const outDir = join(root, `out-${contender}`);
    console.log(`running ${contender} ...`);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), contender, lakeDir, outDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 2 ** 20 },
    );
    if (child.status !== 0) throw new Error(`${contender} failed with exit code ${child.status}`);
    results[contender] = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildResult;
  }
  const rate = (r: ChildResult) => r.rows / (r.ms / 1000);
  const c = results.compaction!;
  const copy = results['duckdb-copy']!;
  const none = { ms: Number.NaN, cpuS: Number.NaN, rows: 0, outputBytes: 0, peakRssMiB: Number.NaN };
  const pj = results['parquetjs-lite'] ?? none;
  report('compaction', {
    staged_lines: generated.lines,
    staging_gzip_mib: generated.gzBytes / 2 ** 20,
    extras_share: EXTRAS_SHARE,
    compaction_rows_written: c.rows,
    compaction_seconds: c.ms / 1000,
    compaction_lines_per_s: generated.lines / (c.ms / 1000),
    compaction_cpu_seconds: c.cpuS,
    compaction_peak_rss_mib: c.peakRssMiB,
    compaction_parquet_mib: c.outputBytes / 2 ** 20,
    compaction_commit_seconds: (c.commitMs ?? Number.NaN) / 1000,
    duckdb_copy_rows: copy.rows,
    duckdb_copy_seconds: copy.ms / 1000,
    duckdb_copy_rows_per_s: rate(copy),
    duckdb_copy_cpu_seconds: copy.cpuS,
    duckdb_copy_peak_rss_mib: copy.peakRssMiB,
    duckdb_copy_parquet_mib: copy.outputBytes / 2 ** 20,
    parquetjs_rows: pj.rows,
    parquetjs_seconds: pj.ms / 1000,
    parquetjs_rows_per_s: rate(pj),
    parquetjs_cpu_seconds: pj.cpuS,
    parquetjs_peak_rss_mib: pj.peakRssMiB,
    parquetjs_parquet_mib: pj.outputBytes / 2 ** 20,
    // Same input lines for all three, so the ratio of times is the ratio of line throughput.
    'ratio_compaction_vs_duckdb_copy (target >= 0.7)': copy.ms / c.ms,
    'ratio_compaction_vs_duckdb_copy_cpu (same, by CPU time)': copy.cpuS / c.cpuS,
    ratio_compaction_vs_parquetjs: pj.ms / c.ms,
    machine_load_average_1m: loadavg()[0]!,
    memory_limit_mib: MEMORY_LIMIT_MIB,
    threads: THREADS,
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}

async function generateHour(store: FolderStore) {
  const random = rng(2026);
  const hourStart = Date.parse(`${DAY}T${String(HOUR).padStart(2, '0')}:00:00Z`);
  const perMinute = Math.ceil(EVENTS / 60);
  let lines = 0;
  let duplicates = 0;
  let objects = 0;
  for (let minute = 0; minute < 60 && lines < EVENTS; minute++) {
    const minuteMs = hourStart + minute * 60_000;
    const count = Math.min(perMinute, EVENTS - lines);
    const events: StagedEvent[] = [];
    for (let i = 0; i < count; i++) {
      const created = minuteMs + Math.floor((i / count) * 60_000);
      const event = stagedEvent(random, created, created + 500 + Math.floor(random() * 3_000));
      if (random() < EXTRAS_SHARE) {
        // As the transform stages a producer's new fields: in event_specifics and in extras.
        const xp = Math.floor(random() * 1000);
        event.event_specifics.xp = xp;
        event.extras = { xp, _envelope: { ab_group: xp % 2 ? 'A' : 'B' } };
      }
      events.push(event);
    }
    // Firehose with a 64 MiB / 60 s buffer: one object per minute partition, plus a redelivery.
    await store.put(stagingKey(minuteMs, minuteMs + 61_000), ndjsonGz(events));
    const again = events.filter(() => random() < DUPLICATE_SHARE);
    await store.put(stagingKey(minuteMs, minuteMs + 125_000), ndjsonGz(again));
    lines += count + again.length;
    duplicates += again.length;
    objects += 2;
  }
  const listed = await listAll(store, dayPrefix('staging', DAY));
  return { lines, duplicates, objects, gzBytes: listed.reduce((s, o) => s + o.size, 0) };
}

// ---- children -----------------------------------------------------------------------------------

async function runChild(which: string, lakeDir: string, outDir: string): Promise<ChildResult> {
  await mkdir(outDir, { recursive: true });
  const store = new FolderStore(lakeDir);
  const files = (await listAll(store, dayPrefix('staging', DAY))).map((o) => join(lakeDir, o.key));
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let rows = 0;
  let outputBytes = 0;
  let commitMs: number | undefined;
  if (which === 'compaction') {
    // The whole compaction: list, download (a file copy here), load, dedup, write, upload, publish.
    const summary = await compactDay({
      store,
      day: DAY,
      memoryLimitMiB: MEMORY_LIMIT_MIB,
      threads: THREADS,
      workDir: outDir,
      log: (line) => console.error(`  ${line}`),
    });
    rows = summary.rows;
    outputBytes = summary.parquet_bytes;
    commitMs = summary.commit_ms;
  } else if (which === 'duckdb-copy') {
    const db = await openDuckDb({
      memoryLimitMiB: MEMORY_LIMIT_MIB,
      threads: THREADS,
      tempDirectory: join(outDir, 'spill'),
    });
    const c = db.connection;
    const path = join(outDir, 'copy.parquet');
    const result = await c.run(
      'COPY (SELECT * FROM read_ndjson($files, compression = $gzip)) TO $path (FORMAT parquet)',
      { files: listValue(files), gzip: 'gzip', path },
    );
    rows = Number(result.rowsChanged);
    outputBytes = statSync(path).size;
    db.close();
  } else if (which === 'parquetjs-lite') {
    const path = join(outDir, 'parquetjs.parquet');
    const writer = await parquet.ParquetWriter.openFile(parquetjsSchema(), path);
    writer.setRowGroupSize(100_000);
    for (const file of files) {
      const lines = createInterface({
        input: createReadStream(file).pipe(createGunzip()),
        crlfDelay: Infinity,
      });
      for await (const line of lines) {
        if (!line) continue;
        const e = JSON.parse(line) as StagedEvent;
        await writer.appendRow({
          ...e,
          created_at: new Date(e.created_at),
          received_at: new Date(e.received_at),
        });
        rows++;
      }
    }
    await writer.close();
    outputBytes = statSync(path).size;
  } else {
    throw new Error(`unknown contender ${which}`);
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  return {
    ms,
    cpuS: (cpu.user + cpu.system) / 1e6,
    ...(commitMs !== undefined ? { commitMs } : {}),
    rows,
    outputBytes,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** The curated schema in parquetjs-lite's terms (it has no zstd: snappy, DuckDB's default codec). */
function parquetjsSchema() {
  const typeOf = (t: string) =>
    ({
      VARCHAR: 'UTF8',
      BIGINT: 'INT64',
      DOUBLE: 'DOUBLE',
      BOOLEAN: 'BOOLEAN',
      TIMESTAMP: 'TIMESTAMP_MICROS',
    })[t];
  const fields: Record<string, unknown> = {};
  for (const col of curatedColumns()) {
    if (col.name === 'event_specifics') {
      fields[col.name] = {
        optional: true,
        fields: Object.fromEntries(
          specificsFields().map((f) => [
            f.name,
            { type: typeOf(f.type), optional: true, compression: 'SNAPPY' },
          ]),
        ),
      };
    } else {
      fields[col.name] = { type: typeOf(col.type), optional: true, compression: 'SNAPPY' };
    }
  }
  return new parquet.ParquetSchema(fields);
}
