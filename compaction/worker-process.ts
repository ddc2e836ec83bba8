import { openLake } from '../lake/open.js';
import { compactUnit } from './unit.js';

// A local fan-out worker (compaction/workers.ts forks it): compacts the units the parent sends
// over IPC, one at a time, and answers with the unit's result or its error.

export interface UnitTask {
  type: 'unit';
  lake: string;
  day: string;
  runId: string;
  unit: number;
  workDir?: string;
  memoryLimitMiB: number;
  threads: number;
  fileSizeBytes?: number;
}

/** What a worker measured of one unit (the bench reports it). */
export interface UnitStats {
  unit: number;
  pid: number;
  rows_read: number;
  rows: number;
  uuid_hashes_bytes: number;
  ms: number;
  /** CPU seconds of the worker process during the unit, all threads. */
  cpu_s: number;
  /** Peak RSS of the worker process so far (its largest unit), MiB. */
  peak_rss_mib: number;
}

export type WorkerMessage =
  | { type: 'log'; unit: number; line: string }
  | { type: 'done'; unit: number; stats: UnitStats }
  | { type: 'error'; unit: number; name: string; message: string };

const send = (message: WorkerMessage) => process.send?.(message);

process.on('message', (task: UnitTask) => {
  const started = Date.now();
  const cpu = process.cpuUsage();
  openLake(task.lake)
    .then((store) =>
      compactUnit({
        store,
        day: task.day,
        runId: task.runId,
        unit: task.unit,
        workDir: task.workDir,
        memoryLimitMiB: task.memoryLimitMiB,
        threads: task.threads,
        fileSizeBytes: task.fileSizeBytes,
        log: (line) => send({ type: 'log', unit: task.unit, line }),
      }),
    )
    .then(
      (result) => {
        const used = process.cpuUsage(cpu);
        send({
          type: 'done',
          unit: task.unit,
          stats: {
            unit: task.unit,
            pid: process.pid,
            rows_read: result.rows_read,
            rows: result.rows,
            uuid_hashes_bytes: result.uuid_hashes_bytes,
            ms: Date.now() - started,
            cpu_s: (used.user + used.system) / 1e6,
            peak_rss_mib: process.resourceUsage().maxRSS / 1024,
          },
        });
      },
      (error: Error) =>
        send({ type: 'error', unit: task.unit, name: error.name, message: error.message ?? String(error) }),
    );
});
// The parent going away (killed, Ctrl-C) ends the worker too.
process.on('disconnect', () => process.exit(0));
