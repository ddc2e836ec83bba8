// Staging partitions per 60 s Firehose buffer at 1M events/h with 1% late events, and during a
// 5x spike: each partition is an S3 object (and Firehose's per-object charge) per buffer,
// and Firehose allows 500 active partitions by default. Counted on the generator's own records
// (arrival = the record's due time), with staging's keys as they were (the minute of created_at)
// and as they are (lake/layout.ts stagingKeys: a late event on its day's shelf), in the same run.
// Target: at most 10 partitions per buffer with late events (the cost model counts 4 shelves).
//
//   npm run bench partitions     (FIRELAKE_BENCH_MINUTES=20 simulated minutes by default)
import { generateRecords } from '../generator/generate.js';
import { parseSpike } from '../generator/schedule.js';
import { isLate, partitionKeysAt, stagingKeys } from '../lake/layout.js';
import { report } from './report.js';

const MINUTES = Number(process.env.FIRELAKE_BENCH_MINUTES ?? 20);
const WINDOW_MS = 60_000;
const start = Date.UTC(2026, 10, 20, 12, 0);
const stream = generateRecords({
  seed: 7,
  start,
  durationMs: MINUTES * 60_000,
  lateRate: 0.01,
  spikes: [parseSpike(`5x@${Math.floor(MINUTES / 2)}m+5m`)],
});

const keyOf = (k: Record<string, string>) => `${k.year}${k.month}${k.day}${k.hour}${k.minute}`;
const windows = new Map<number, { before: Set<string>; after: Set<string>; events: number; late: number }>();
for (const r of stream) {
  if (typeof r.data !== 'string') continue;
  const m = /"created_at":("?)([^,"}]+)\1/.exec(r.data);
  if (!m) continue;
  const createdAtMs = m[1] ? Date.parse(m[2]!) : Number(m[2]) * 1000;
  if (!Number.isFinite(createdAtMs) || createdAtMs > r.at) continue; // quarantined either way
  const w = Math.floor(r.at / WINDOW_MS);
  let entry = windows.get(w);
  if (!entry) {
    entry = { before: new Set(), after: new Set(), events: 0, late: 0 };
    windows.set(w, entry);
  }
  entry.events++;
  if (isLate(createdAtMs, r.at)) entry.late++;
  entry.before.add(keyOf(partitionKeysAt('staging', createdAtMs)));
  entry.after.add(keyOf(stagingKeys(createdAtMs, r.at)));
}

const all = [...windows.values()];
const steady = all.filter((w) => w.events < 1.5 * (1_000_000 / 60));
const spike = all.filter((w) => w.events >= 1.5 * (1_000_000 / 60));
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const max = (xs: number[]) => Math.max(0, ...xs);
const afterMax = max(all.map((w) => w.after.size));
report('partitions', {
  'buffers (60 s)': all.length,
  'late events per steady buffer': Math.round(mean(steady.map((w) => w.late))),
  'partitions per steady buffer, minute of created_at': mean(steady.map((w) => w.before.size)),
  'partitions per steady buffer, late shelf': mean(steady.map((w) => w.after.size)),
  'partitions per spike buffer, minute of created_at (max)': max(spike.map((w) => w.before.size)),
  'partitions per spike buffer, late shelf (max)': max(spike.map((w) => w.after.size)),
  'ratio, steady (before / after)':
    mean(steady.map((w) => w.before.size)) / mean(steady.map((w) => w.after.size)),
  'target <= 10 per buffer': afterMax <= 10 ? 'holds' : `does not hold (${afterMax})`,
});
