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

export type WorkerMessage =
  | { type: 'log'; unit: number; line: string }
  | { type: 'done'; unit: number; rows: number }
  | { type: 'error'; unit: number; name: string; message: string };

const send = (message: WorkerMessage) => process.send?.(message);

process.on('message', (task: UnitTask) => {
  compactUnit({
    store: openLake(task.lake),
    day: task.day,
    runId: task.runId,
    unit: task.unit,
    workDir: task.workDir,
    memoryLimitMiB: task.memoryLimitMiB,
    threads: task.threads,
    fileSizeBytes: task.fileSizeBytes,
    log: (line) => send({ type: 'log', unit: task.unit, line }),
  }).then(
    (result) => send({ type: 'done', unit: task.unit, rows: result.rows }),
    (error: Error) =>
      send({ type: 'error', unit: task.unit, name: error.name, message: error.message ?? String(error) }),
  );
});
// The parent going away (killed, Ctrl-C) ends the worker too.
process.on('disconnect', () => process.exit(0));
