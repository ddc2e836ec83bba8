// The local Firehose under crashes: a producer sends to `firelake serve` while it is killed
// with SIGKILL at random moments, N times, each followed by a restart on the same data dir; a
// last start recovers and a SIGTERM flushes; then compaction. Prints what was attempted,
// acknowledged, lost (acknowledged but not in staging / curated), duplicated in staging and in
// curated, and recovered from the write-ahead log at the restarts (test/support/chaos.ts).
// Lost and duplicated in curated must be 0.
//
//   npm run bench chaos   (FIRELAKE_BENCH_CHAOS_CYCLES=5 FIRELAKE_BENCH_CHAOS_SEED=n)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChaos } from '../test/support/chaos.js';
import { report } from './report.js';

const CYCLES = Number(process.env.FIRELAKE_BENCH_CHAOS_CYCLES ?? 5);
const SEED = Number(process.env.FIRELAKE_BENCH_CHAOS_SEED ?? Date.now() % 100_000);
const dir = mkdtempSync(join(tmpdir(), 'firelake-bench-chaos-'));
const began = Date.now();
const result = await runChaos({
  dataDir: join(dir, 'data'),
  cycles: CYCLES,
  minUpMs: 1_000,
  maxUpMs: 8_000,
  seed: SEED,
  inFlight: 4,
  log: (line) => console.error(`  ${line}`),
});
report('chaos', {
  seed: SEED,
  crash_cycles: result.cycles,
  attempted: result.attempted,
  acknowledged: result.acknowledged,
  lost_acknowledged_not_staged: result.lost,
  lost_acknowledged_not_curated: result.lostInCurated,
  recovered_from_log_at_restarts: result.recovered,
  staged_rows: result.stagedRows,
  duplicated_in_staging: result.duplicatedInStaging,
  curated_rows: result.curatedRows,
  duplicated_in_curated: result.duplicatedInCurated,
  unacknowledged_but_delivered: result.curatedRows - result.duplicatedInCurated - result.acknowledged,
  final_stop_exit_code: result.finalExitCode ?? 'signal',
  wall_s: Math.round((Date.now() - began) / 1000),
  load_average_1m: Number(loadavg()[0]!.toFixed(1)),
});
rmSync(dir, { recursive: true, force: true });
process.exit(result.lost === 0 && result.lostInCurated === 0 && result.duplicatedInCurated === 0 ? 0 : 1);
