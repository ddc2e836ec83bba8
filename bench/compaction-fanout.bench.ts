// Fan-out compaction against the single run, on the same staged day of several hours, in the
// same run: lines/s of each, CPU, peak RSS of each worker process, peak work folder per unit;
// from those, the largest unit one worker Lambda (10 GB memory, 10 GB /tmp, 15 minutes) holds
// and the events/day ceiling of the fan-out path. Each run is a child process of its own.
//
//   npm run bench compaction            (runs compaction.bench.ts, then this)
//   FIRELAKE_BENCH_HOURS=4 FIRELAKE_BENCH_EVENTS_PER_HOUR=300000 FIRELAKE_BENCH_WORKERS=2

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactDay } from '../compaction/compact.js';
import type { UnitStats } from '../compaction/worker-process.js';
import { compactDayWithWorkers } from '../compaction/workers.js';
import { DEFAULT_CONFIG } from '../infra/config-defaults.js';
import { FolderStore } from '../lake/folder-store.js';
import { dayPrefix } from '../lake/layout.js';
import { listAll } from '../lake/store.js';
import { writeStagingDay } from '../test/compaction-staging.js';
import { peakRssMiB, report } from './report.js';

const DAY = '2026-11-20';
const HOURS = Number(process.env.FIRELAKE_BENCH_HOURS ?? 4);
const EVENTS_PER_HOUR = Number(process.env.FIRELAKE_BENCH_EVENTS_PER_HOUR ?? 300_000);
const WORKERS = Number(process.env.FIRELAKE_BENCH_WORKERS ?? availableParallelism());
/** DuckDB memory for the whole machine, shared out among the workers as the CLI does. */
const MEMORY_LIMIT_MIB = 2048;
const THREADS = availableParallelism();

// The worker Lambda (infra/compaction-fanout.ts, default config) and the assumptions the
// ceiling rests on, named here so the figures can be re-derived.
const LAMBDA = { memoryGiB: 10, tmpGiB: 10, seconds: 900, vcpus: 6 };
/** DuckDB's speed-up on the Lambda's 6 vCPUs over one core: assumed, not measured here. */
const ASSUMED_SPEEDUP_6_VCPU = 3;
/** S3 throughput of one Lambda, download of the gzip plus upload of about as much Parquet. */
const ASSUMED_S3_MIB_PER_S = 80;
/** A unit must finish in half the timeout: a slow attempt still completes. */
const TIME_HEADROOM = 0.5;
/** Items the plan can hand the Distributed Map in the state (256 KiB, about 90 bytes each). */
const ITEMS_IN_STATE = Math.floor((256 * 1024) / 90);
const MAX_UNITS_IN_FLIGHT = DEFAULT_CONFIG.compaction.maxConcurrency;
const STATE_MACHINE_HOURS = 6;

interface ChildResult {
  ms: number;
  cpuS: number;
  rows: number;
  rowsRead: number;
  peakRssMiB: number;
  units?: UnitStats[];
  commitMs?: number;
  rowsByLanguage: Record<string, number>;
}

const [mode, lakeDir, workDir] = process.argv.slice(2);
if (mode) {
  process.stdout.write(`${JSON.stringify(await runChild(mode, lakeDir!, workDir!))}\n`);
  process.exit(0);
}

const root = mkdtempSync(join(tmpdir(), 'firelake-bench-fanout-'));
try {
  const lake = join(root, 'lake');
  const store = new FolderStore(lake);
  console.log(`staging ${HOURS} hours at ${EVENTS_PER_HOUR.toLocaleString('en-US')} events/hour ...`);
  const staged = await writeStagingDay(store, {
    day: DAY,
    hours: Array.from({ length: HOURS }, (_, h) => h),
    minutes: Array.from({ length: 60 }, (_, m) => m),
    eventsPerObject: Math.ceil(EVENTS_PER_HOUR / 60),
    duplicateShare: 0.01,
    seed: 17,
  });
  const gzBytes = (await listAll(store, dayPrefix('staging', DAY))).reduce((s, o) => s + o.size, 0);
  console.log(
    `day: ${staged.lines.toLocaleString('en-US')} lines in ${staged.keys.length} objects, ${(gzBytes / 2 ** 20).toFixed(1)} MiB gzip`,
  );
  const results: Record<string, ChildResult & { peakWorkMiB: number; peakUnitWorkMiB: number }> = {};
  for (const contender of ['single', 'fanout']) {
    const work = join(root, `work-${contender}`);
    console.log(`running ${contender} ...`);
    const watcher = watchFolder(work);
    // Not spawnSync: the folder watcher polls while the child runs.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), contender, lake, work],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const peaks = watcher.stop();
    if (code !== 0) throw new Error(`${contender} failed with exit code ${code}`);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
    results[contender] = { ...result, peakWorkMiB: peaks.total, peakUnitWorkMiB: peaks.largest };
  }
  const single = results.single!;
  const fan = results.fanout!;
  if (
    fan.rows !== single.rows ||
    JSON.stringify(fan.rowsByLanguage) !== JSON.stringify(single.rowsByLanguage)
  )
    throw new Error(`fan-out wrote ${fan.rows} rows, the single run ${single.rows}`);
  const units = fan.units!;
  const gib = gzBytes / 2 ** 30;
  const unitCpuS = units.reduce((s, u) => s + u.cpu_s, 0);
  const linesPerGib = staged.lines / gib;
  // One worker Lambda: seconds per GiB of gzip, from the units' CPU on this machine.
  const cpuSPerGib = unitCpuS / gib;
  const secondsPerGib = cpuSPerGib / ASSUMED_SPEEDUP_6_VCPU + (2 * 1024) / ASSUMED_S3_MIB_PER_S;
  const unitGibByTime = (LAMBDA.seconds * TIME_HEADROOM) / secondsPerGib;
  const workPerGib = fan.peakUnitWorkMiB / 1024 / (gib / units.length);
  const unitGibByDisk = (LAMBDA.tmpGiB * 0.9) / workPerGib;
  const unitGib = Math.min(unitGibByTime, unitGibByDisk);
  const unitSeconds = unitGib * secondsPerGib;
  const unitsPerDay = Math.min(
    ITEMS_IN_STATE,
    Math.floor((MAX_UNITS_IN_FLIGHT * STATE_MACHINE_HOURS * 3600) / unitSeconds),
  );
  // The commit's day-wide check downloads every unit's uuid hashes to /tmp.
  const hashBytesPerEvent = units.reduce((s, u) => s + u.uuid_hashes_bytes, 0) / fan.rows;
  const commitEventsByDisk = (LAMBDA.tmpGiB * 0.9 * 2 ** 30) / hashBytesPerEvent;
  const commitSPerMillion = fan.commitMs! / 1000 / (fan.rows / 1e6);
  const commitEventsByTime = ((LAMBDA.seconds * TIME_HEADROOM) / commitSPerMillion) * 1e6;
  const ceiling = Math.min(unitGib * linesPerGib * unitsPerDay, commitEventsByDisk, commitEventsByTime);
  report('compaction-fanout', {
    staged_lines: staged.lines,
    staging_gzip_mib: gzBytes / 2 ** 20,
    hours: HOURS,
    workers: WORKERS,
    units: units.length,
    rows_written_both: fan.rows,
    single_seconds: single.ms / 1000,
    single_lines_per_s: staged.lines / (single.ms / 1000),
    single_cpu_seconds: single.cpuS,
    single_peak_rss_mib: single.peakRssMiB,
    single_peak_work_folder_mib: single.peakWorkMiB,
    fanout_seconds: fan.ms / 1000,
    fanout_lines_per_s: staged.lines / (fan.ms / 1000),
    fanout_commit_seconds: fan.commitMs! / 1000,
    fanout_units_cpu_seconds: unitCpuS,
    fanout_parent_peak_rss_mib: fan.peakRssMiB,
    ...Object.fromEntries(
      units.flatMap((u) => [
        [`unit_${u.unit}_lines_per_s`, u.rows_read / (u.ms / 1000)],
        [`unit_${u.unit}_worker_peak_rss_mib`, u.peak_rss_mib],
      ]),
    ),
    fanout_peak_unit_work_folder_mib: fan.peakUnitWorkMiB,
    'ratio_fanout_vs_single (wall, same run)': single.ms / fan.ms,
    cpu_seconds_per_gib_gzip: cpuSPerGib,
    work_folder_gib_per_gib_gzip: workPerGib,
    lines_per_gib_gzip: linesPerGib,
    [`lambda_unit_gib_by_time (15 min x ${TIME_HEADROOM}, ${ASSUMED_SPEEDUP_6_VCPU}x on 6 vCPU, S3 ${ASSUMED_S3_MIB_PER_S} MiB/s)`]:
      unitGibByTime,
    'lambda_unit_gib_by_disk (10 GiB /tmp x 0.9)': unitGibByDisk,
    lambda_unit_events: unitGib * linesPerGib,
    lambda_unit_seconds: unitSeconds,
    [`units_per_run (min of ${ITEMS_IN_STATE} items in state, ${MAX_UNITS_IN_FLIGHT} in flight x ${STATE_MACHINE_HOURS} h)`]:
      unitsPerDay,
    commit_uuid_hash_bytes_per_event: hashBytesPerEvent,
    'commit_events_by_disk (hashes in 9 GiB /tmp)': commitEventsByDisk,
    'commit_events_by_time (450 s)': commitEventsByTime,
    fanout_events_per_day_ceiling: ceiling,
    single_lambda_events_per_day_for_comparison: Math.min(unitGibByTime, unitGibByDisk) * linesPerGib,
    machine_load_average_1m: loadavg()[0]!,
    memory_limit_mib_total: MEMORY_LIMIT_MIB,
    threads_total: THREADS,
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}

async function runChild(kind: string, lake: string, work: string): Promise<ChildResult> {
  const store = new FolderStore(lake);
  const started = Date.now();
  const cpu = process.cpuUsage();
  const units: UnitStats[] = [];
  let lastUnitAt = 0;
  const options = {
    store,
    day: DAY,
    workDir: work,
    memoryLimitMiB: MEMORY_LIMIT_MIB,
    threads: THREADS,
    force: true,
    log: (line: string) => console.error(line),
  };
  const summary =
    kind === 'single'
      ? await compactDay(options)
      : await compactDayWithWorkers({
          ...options,
          workers: WORKERS,
          // About an hour of staging per unit, the unit AWS makes of a large day.
          // (a hair under: units are cut at one to two unit sizes).
          unitBytes:
            ((await listAll(store, dayPrefix('staging', DAY))).reduce((s, o) => s + o.size, 0) / HOURS) *
            0.999,
          onUnitDone: (u) => {
            units.push(u);
            lastUnitAt = Date.now();
          },
        });
  const used = process.cpuUsage(cpu);
  return {
    ms: Date.now() - started,
    cpuS: (used.user + used.system) / 1e6,
    rows: summary.rows,
    rowsRead: summary.rows_read,
    peakRssMiB: peakRssMiB(),
    rowsByLanguage: summary.rows_by_language,
    ...(kind === 'fanout' ? { units, commitMs: Date.now() - lastUnitAt } : {}),
  };
}

/** Polls a work folder's size: the peak of the whole and of its largest run folder, MiB. */
function watchFolder(dir: string): { stop(): { total: number; largest: number } } {
  let total = 0;
  let largest = 0;
  const size = (path: string): number => {
    let sum = 0;
    for (const e of readdirSync(path, { withFileTypes: true, recursive: true })) {
      if (!e.isFile()) continue;
      try {
        sum += statSync(join(e.parentPath, e.name)).size;
      } catch {
        // removed while we looked
      }
    }
    return sum;
  };
  const timer = setInterval(() => {
    try {
      const runs = readdirSync(dir).map((d) => size(join(dir, d)));
      total = Math.max(total, runs.reduce((s, n) => s + n, 0) / 2 ** 20);
      largest = Math.max(largest, ...runs.map((n) => n / 2 ** 20));
    } catch {
      // not there yet
    }
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return { total, largest };
    },
  };
}
