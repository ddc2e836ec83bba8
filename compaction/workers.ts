import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { entryBeside } from '../lake/entry.js';
import type { Day } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { CrossUnitDuplicateError, commitDay } from './commit.js';
import { type CompactDayOptions, type CompactionSummary, compactDay } from './compact.js';
import { CompactionError } from './errors.js';
import { type FanOutPlan, planDay, runPrefix, unitResultKey } from './plan.js';
import type { UnitResult } from './unit.js';
import type { UnitStats, UnitTask, WorkerMessage } from './worker-process.js';

// `firelake compact --workers N` on one machine: the fan-out plan of AWS (plan, units, commit)
// with N worker processes instead of a Distributed Map of Lambdas. A unit whose worker dies
// (killed, out of memory) or fails is run again on a fresh process, with backoff, up to
// maxAttempts; then the run fails and the published day stays as it was.

export const DEFAULT_UNIT_ATTEMPTS = 3;

export interface WorkersOptions extends CompactDayOptions {
  /** Worker processes (default: the cores). 1 runs the day in this process (compactDay). */
  workers?: number;
  /** Gzip staging bytes per unit (DEFAULT_UNIT_BYTES). */
  unitBytes?: number;
  /** Attempts per unit before the run fails (default 3). */
  maxAttempts?: number;
  /** Wait before a unit's second attempt, doubled for each further one (default 1 s). */
  retryDelayMs?: number;
  /** Test seam: every progress line of a worker, with its process, unit and attempt. */
  onWorkerLine?: (event: { pid: number; unit: number; attempt: number; line: string }) => void;
  /** What each unit's worker measured (bench/compaction-fanout.bench.ts). */
  onUnitDone?: (stats: UnitStats) => void;
}

/** A unit failed on every attempt: the run published nothing. */
export class UnitFailedError extends CompactionError {
  static override readonly code: string = 'COMPACTION_UNIT_FAILED';
  constructor(
    readonly day: Day,
    readonly unit: number,
    attempts: number,
    reason: string,
  ) {
    super(`${day}: unit ${unit} failed ${attempts} time(s) (last: ${reason}); nothing was published`);
    this.name = 'UnitFailedError';
  }
}

/** Errors a retry cannot fix: the same input fails the same way. */
const PERMANENT = new Set(['UnreadableObjectError', 'CompactionError']);

export async function compactDayWithWorkers(options: WorkersOptions): Promise<CompactionSummary> {
  const workers = options.workers ?? availableParallelism();
  if (workers <= 1) return compactDay(options);
  const { store, day } = options;
  const log = options.log ?? (() => {});
  const planned = await planDay({ ...options, runId: options.runId });
  if (planned.mode === 'unchanged') return planned.summary;
  if (planned.mode === 'single') {
    log(`${day}: one run (${planned.reason})`);
    return compactDay(options);
  }
  const { plan } = planned;
  const n = Math.min(workers, plan.units.length);
  try {
    await runUnits(plan, options, n);
  } catch (error) {
    await abandonRun(store, plan);
    throw error;
  }
  try {
    return await commitDay({ ...options, runId: plan.run_id });
  } catch (error) {
    if (!(error instanceof CrossUnitDuplicateError)) throw error;
    log(`${day}: ${error.message}`);
    log(`${day}: compacting the day in one run instead`);
    return compactDay({ ...options, runId: undefined });
  }
}

async function runUnits(plan: FanOutPlan, options: WorkersOptions, n: number): Promise<void> {
  const { day, run_id: runId } = plan;
  const log = options.log ?? (() => {});
  const maxAttempts = options.maxAttempts ?? DEFAULT_UNIT_ATTEMPTS;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  // The machine's memory and cores shared out: DuckDB in each worker gets its slice.
  const memoryLimitMiB = Math.max(
    256,
    Math.floor((options.memoryLimitMiB ?? (totalmem() / 2 ** 20) * 0.6) / n),
  );
  const threads = Math.max(1, Math.floor((options.threads ?? availableParallelism()) / n));
  log(
    `${day}: ${plan.units.length} units on ${n} worker process(es), ${memoryLimitMiB} MiB and ${threads} thread(s) each`,
  );
  const queue = plan.units.map((u) => ({ unit: u.index, attempt: 1 }));
  let failure: Error | undefined;
  const children = new Set<ChildProcess>();

  const slot = async () => {
    let child: ChildProcess | undefined;
    while (failure === undefined) {
      const task = queue.shift();
      if (!task) break;
      child ??= spawnWorker(children);
      const message: UnitTask = {
        type: 'unit',
        lake: options.store.location,
        day,
        runId,
        unit: task.unit,
        workDir: options.workDir,
        memoryLimitMiB,
        threads,
        fileSizeBytes: options.fileSizeBytes,
      };
      const outcome = await runOn(child, message, (line) => {
        log(line);
        options.onWorkerLine?.({ pid: child!.pid!, unit: task.unit, attempt: task.attempt, line });
      });
      if (outcome.ok) {
        options.onUnitDone?.(outcome.stats);
        continue;
      }
      if (outcome.died) child = undefined;
      const retry = task.attempt < maxAttempts && !PERMANENT.has(outcome.name);
      log(
        `${day}: unit ${task.unit} attempt ${task.attempt} failed: ${outcome.reason}${retry ? '; retrying' : ''}`,
      );
      if (!retry) {
        failure = new UnitFailedError(day, task.unit, task.attempt, outcome.reason);
        break;
      }
      await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (task.attempt - 1)));
      queue.push({ unit: task.unit, attempt: task.attempt + 1 });
    }
    child?.disconnect();
  };
  try {
    await Promise.all(Array.from({ length: n }, slot));
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
  }
  if (failure) throw failure;
}

function spawnWorker(children: Set<ChildProcess>): ChildProcess {
  const entry = entryBeside(import.meta.url, 'worker-process');
  const child = fork(entry.path, [], {
    execArgv: entry.execArgv,
    // Workers report over IPC; their own stdout/stderr (the SDK's Node version warning) stay
    // out of the user's output, and the last lines explain a crash.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

type Outcome = { ok: true; stats: UnitStats } | { ok: false; died: boolean; name: string; reason: string };

/** Sends one unit to a worker and waits for its answer, or for the worker to die. */
function runOn(child: ChildProcess, task: UnitTask, onLine: (line: string) => void): Promise<Outcome> {
  let stderr = '';
  const onData = (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  };
  child.stderr?.on('data', onData);
  return new Promise<Outcome>((resolve) => {
    const onMessage = (m: WorkerMessage) => {
      if (m.unit !== task.unit) return;
      if (m.type === 'log') onLine(m.line);
      else {
        done();
        resolve(
          m.type === 'done'
            ? { ok: true, stats: m.stats }
            : { ok: false, died: false, name: m.name, reason: m.message },
        );
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done();
      const last = stderr.trim().split('\n').at(-1);
      resolve({
        ok: false,
        died: true,
        name: 'WorkerDied',
        reason: `worker ${child.pid} exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`,
      });
    };
    const done = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.stderr?.off('data', onData);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(task);
  });
}

/** A run that will not commit: its units' files and its folder go (best effort). */
async function abandonRun(store: ObjectStore, plan: FanOutPlan): Promise<void> {
  const keys: string[] = [];
  for (const u of plan.units) {
    const bytes = await store.get(unitResultKey(plan.day, plan.run_id, u.index)).catch(() => undefined);
    if (!bytes) continue;
    const result = JSON.parse(Buffer.from(bytes).toString('utf8')) as UnitResult;
    keys.push(...result.files.map((f) => f.key));
  }
  for await (const o of store.list(runPrefix(plan.day, plan.run_id))) keys.push(o.key);
  await store.delete(keys).catch(() => {});
}
