import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { firehoseClient } from '../aws/clients.js';
import { type CompactionSummary, compactDay } from '../compaction/compact.js';
import { MissingDayError } from '../compaction/errors.js';
import { markPendingDays } from '../compaction/pending.js';
import { QUARANTINE_REASONS } from '../events/types.js';
import { firehoseSink } from '../generator/sinks.js';
import { type Day, dayOf, replaysDayPrefix } from '../lake/layout.js';
import { DEFAULT_TRANSFORM_LATE_WINDOW_DAYS } from '../lake/settings.js';
import type { ObjectStore } from '../lake/store.js';
import { ReplayEngine, type SelectionRow, writeEmptyCandidates } from './engine.js';
import { type Outcomes, watchOutcomes } from './outcome.js';
import { type NotSendable, prepareRecords, type ReplayRecord } from './prepare.js';
import { ReplayInputError, type ReplaySource, readLake, readPayloadFile, type Unreadable } from './read.js';

// `firelake replay`: quarantined and failed records back through the Firehose API, optionally
// fixed by a DuckDB SELECT, exactly once. The steps: check the fix; read the selection (replay/
// read.ts, replay/sql/select.sql); run the fix; tag every record with its origin and judge it
// against the current catalog (replay/prepare.ts); then either report (--dry-run) or send it
// through PutRecordBatch (the generator's Firehose sink: batches, per-record resends with
// backoff), watch the lake for where each record ended (replay/outcome.ts), recompact the days
// replayed events were staged in, and write the run's record under replays/runs/.
//
// Exactly once rests on the transform's dedup by event_uuid (transform/dedup.ts): a replayed
// record is a new delivery, so sending it again (a second replay, or the rerun of an interrupted
// one) makes a `duplicate` tombstone, reported here as "already present"; compaction drops any
// copy staged twice within a day (a replay after the dedup window of DEDUP_TTL_HOURS).

const DEFAULT_CHUNK_RECORDS = 1_000;

export const REPLAYABLE_REASONS = QUARANTINE_REASONS.filter((r) => r !== 'duplicate');

export interface ReplayOptions {
  store: ObjectStore;
  /** Lake sources on days; or `file`, an NDJSON file of payloads. */
  sources: readonly ReplaySource[];
  days: readonly Day[];
  file?: string;
  reasons?: readonly string[];
  eventName?: string;
  /** A DuckDB SELECT over the view `quarantined` returning `payload` (and optionally `origin`). */
  fixFile?: string;
  allowLate?: boolean;
  dryRun?: boolean;
  streamName: string;
  client?: FirehoseClient;
  /** Watch the lake until every record sent is found (default true); how long at most. */
  wait?: boolean;
  waitTimeoutMs?: number;
  pollMs?: number;
  /** Compact the days replayed events were staged in (default true); false lists them for the nightly run. */
  compact?: boolean;
  lateWindowDays?: number;
  maxInFlight?: number;
  now?: () => number;
  log?: (line: string) => void;
  /** Aborting stops sending; what was sent is waited for and recorded (status interrupted). */
  signal?: AbortSignal;
  /** Records sent per chunk (default 1,000); an interruption stops after the chunk in flight. */
  chunkRecords?: number;
  /** Test seam: called after each chunk with the records sent so far. */
  onSent?: (count: number) => void;
}

export interface ReasonReport {
  reason: string;
  selected: number;
  /** Dry run: would be sent; otherwise sent. */
  sendable: number;
  /** The current catalog and clock would stage them (the rest would be quarantined again). */
  would_accept: number;
  not_sendable: number;
}

export interface ReplayReport {
  run_id: string;
  status: 'dry-run' | 'nothing' | 'complete' | 'interrupted';
  started_at: string;
  finished_at: string;
  lake: string;
  stream: string;
  selection: {
    sources: string[];
    days: Day[];
    file: string | null;
    reasons: string[];
    event_name: string | null;
    fix: { file: string; sha256: string } | null;
    allow_late: boolean;
  };
  objects_read: number;
  lines_read: number;
  unreadable: Unreadable[];
  /** Duplicate tombstones (never replayed) and earlier replays' outcomes, left out. */
  left_out: { tombstones: number; replay_outcomes: number };
  selected: number;
  by_reason: ReasonReport[];
  /** Would-be quarantine reason of records the current catalog refuses, by reason. */
  refused_by_catalog: Record<string, number>;
  not_sendable: NotSendable[];
  sent: number;
  undelivered: number;
  outcome: Outcomes | null;
  /** Days the replay compacted, or left to the nightly run (pending). */
  compaction: { day: Day; status: string; rows?: number; error?: string }[];
  /** Where the run's record is in the lake (not for dry runs). */
  record_key: string | null;
}

export function newRunId(nowMs: number): string {
  return `${new Date(nowMs).toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z-${randomBytes(3).toString('hex')}`;
}

/** Checks the flags that do not need the lake: reasons and sources. */
export function checkReasons(reasons: readonly string[]): void {
  for (const r of reasons) {
    if (r === 'duplicate') {
      throw new ReplayInputError(
        'duplicate tombstones are never replayed: they carry no payload, their event is in the lake already',
      );
    }
    if (!(REPLAYABLE_REASONS as readonly string[]).includes(r)) {
      throw new ReplayInputError(`unknown reason "${r}": one of ${REPLAYABLE_REASONS.join(', ')}`);
    }
  }
}

export async function runReplay(options: ReplayOptions): Promise<ReplayReport> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const startedMs = now();
  const runId = newRunId(startedMs);
  const reasons = [...new Set(options.reasons ?? [])];
  checkReasons(reasons);
  const work = await mkdtemp(join(tmpdir(), 'firelake-replay-'));
  const engine = await ReplayEngine.open();
  try {
    // 1. The fix first: a broken one stops the replay before the lake is even read.
    const candidates = join(work, 'candidates.ndjson');
    let fix: ReplayReport['selection']['fix'] = null;
    if (options.fixFile) {
      await writeEmptyCandidates(candidates);
      await engine.select(candidates, reasons, options.eventName ?? null);
      await engine.checkFix(options.fixFile);
      const text = await readFile(options.fixFile);
      fix = { file: options.fixFile, sha256: createHash('sha256').update(text).digest('hex') };
    }

    // 2. The selection.
    const read = options.file
      ? await readPayloadFile(options.file, candidates)
      : await readLake({
          store: options.store,
          sources: options.sources,
          days: options.days,
          out: candidates,
          log,
        });
    const summary = await engine.select(candidates, reasons, options.eventName ?? null);
    const selected = await engine.selected();

    // 3. The fix (or the records as they are), tagged and judged.
    const rows = selected.length > 0 ? await engine.output() : [];
    const { records, notSendable } = prepareRecords(rows, selected, {
      allowLate: options.allowLate ?? false,
      lateWindowDays: options.lateWindowDays ?? DEFAULT_TRANSFORM_LATE_WINDOW_DAYS,
      nowMs: startedMs,
    });
    const report: ReplayReport = {
      run_id: runId,
      status: options.dryRun ? 'dry-run' : 'complete',
      started_at: new Date(startedMs).toISOString(),
      finished_at: '',
      lake: options.store.location,
      stream: options.streamName,
      selection: {
        sources: options.file ? ['file'] : [...options.sources],
        days: options.file ? [] : [...options.days],
        file: options.file ?? null,
        reasons,
        event_name: options.eventName ?? null,
        fix,
        allow_late: options.allowLate ?? false,
      },
      objects_read: read.objects,
      lines_read: read.lines,
      unreadable: read.unreadable,
      left_out: {
        tombstones: sum(summary, (r) => r.tombstones),
        replay_outcomes: sum(summary, (r) => r.replay_outcomes),
      },
      selected: selected.length,
      by_reason: byReason(summary, records, notSendable),
      refused_by_catalog: countBy(
        records.filter((r) => r.verdict !== 'accept'),
        (r) => r.verdict,
      ),
      not_sendable: notSendable,
      sent: 0,
      undelivered: 0,
      outcome: null,
      compaction: [],
      record_key: null,
    };
    if (options.dryRun) return finish(report, now);
    if (records.length === 0) {
      report.status = 'nothing';
      log('nothing to replay');
      return finish(report, now);
    }

    // 4. Send, through the front door.
    const sent = await send(records, options, log);
    report.sent = sent.count;
    report.undelivered = sent.undelivered;
    if (sent.interrupted) report.status = 'interrupted';

    // 5. Where did each record end? Then the days it landed in.
    const expected = new Map(sent.records.map((r) => [r.origin, r.eventDay]));
    if ((options.wait ?? true) && sent.count > 0) {
      report.outcome = await watchOutcomes({
        store: options.store,
        sent: expected,
        delivered: sent.count,
        sinceMs: startedMs,
        timeoutMs: options.waitTimeoutMs ?? 300_000,
        pollMs: options.pollMs,
        log,
      });
      log(formatOutcome(report.outcome));
    }
    const days = report.outcome
      ? report.outcome.staged_days
      : [...new Set(sent.records.map((r) => r.eventDay).filter((d): d is Day => d !== null))].sort();
    if (options.compact ?? true) {
      if (report.outcome && report.outcome.pending > 0) {
        // Records still on their way may land in other days: leave those to the nightly run too.
        const later = sent.records
          .map((r) => r.eventDay)
          .filter((d): d is Day => d !== null && !days.includes(d));
        await markPendingDays(options.store, new Set(later));
      }
      for (const day of days) report.compaction.push(await compact(options.store, day, log));
    } else {
      await markPendingDays(options.store, days);
      report.compaction = days.map((day) => ({ day, status: 'pending' }));
    }

    // 6. The run's record, for the scorecard (sql/quality/replays.sql).
    finish(report, now);
    report.record_key = `${replaysDayPrefix(dayOf(startedMs))}${runId}.json`;
    const { not_sendable: _, outcome, ...kept } = report;
    const document = {
      format: 1,
      ...kept,
      outcome: outcome && {
        ...outcome,
        quarantined_again: sum(Object.values(outcome.quarantined), (n) => n),
      },
      not_sendable: notSendable.length,
    };
    await options.store.put(report.record_key, `${JSON.stringify(document, null, 2)}\n`, {
      contentType: 'application/json',
    });
    return report;
  } finally {
    engine.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function send(
  records: ReplayRecord[],
  options: ReplayOptions,
  log: (line: string) => void,
): Promise<{ count: number; undelivered: number; interrupted: boolean; records: ReplayRecord[] }> {
  const client = options.client ?? firehoseClient();
  const chunk = options.chunkRecords ?? DEFAULT_CHUNK_RECORDS;
  const handed: ReplayRecord[] = [];
  let delivered = 0;
  let undelivered = 0;
  try {
    // Chunk by chunk, each delivered (or given up) before the next: Ctrl-C stops within a chunk.
    for (let i = 0; i < records.length && !options.signal?.aborted; i += chunk) {
      const part = records.slice(i, i + chunk);
      // A replay is patient: throttled records are resent for minutes, not seconds.
      const sink = firehoseSink({
        client,
        streamName: options.streamName,
        maxInFlight: options.maxInFlight ?? 4,
        maxAttempts: 30,
      });
      for (const record of part) {
        const wait = sink.write(record.data);
        if (wait) await wait;
      }
      const counters = await sink.close();
      delivered += counters.delivered;
      undelivered += counters.undelivered;
      handed.push(...part);
      log(
        `sent ${delivered} of ${records.length}${undelivered ? `, ${undelivered} given up after retries` : ''}`,
      );
      options.onSent?.(handed.length);
    }
    return {
      count: delivered,
      undelivered,
      interrupted: handed.length < records.length,
      records: handed,
    };
  } finally {
    if (!options.client) client.destroy();
  }
}

async function compact(
  store: ObjectStore,
  day: Day,
  log: (line: string) => void,
): Promise<ReplayReport['compaction'][number]> {
  try {
    const s: CompactionSummary = await compactDay({ store, day, log });
    return { day, status: s.status, rows: s.rows };
  } catch (error) {
    if (error instanceof MissingDayError) return { day, status: 'missing', error: error.message };
    // The replay itself succeeded: the nightly run picks the day up.
    await markPendingDays(store, [day]);
    log(`${day}: compaction failed (${(error as Error).message}); left to the nightly run`);
    return { day, status: 'pending', error: (error as Error).message };
  }
}

function byReason(
  summary: SelectionRow[],
  records: ReplayRecord[],
  notSendable: NotSendable[],
): ReasonReport[] {
  const reports = new Map<string, ReasonReport>();
  const get = (reason: string) => {
    let r = reports.get(reason);
    if (!r) {
      r = { reason, selected: 0, sendable: 0, would_accept: 0, not_sendable: 0 };
      reports.set(reason, r);
    }
    return r;
  };
  for (const row of summary) if (row.selected > 0) get(row.reason).selected += row.selected;
  for (const r of records) {
    get(r.reason).sendable++;
    if (r.verdict === 'accept') get(r.reason).would_accept++;
  }
  for (const n of notSendable) get(n.reason).not_sendable++;
  return [...reports.values()].sort((a, b) => a.reason.localeCompare(b.reason));
}

function finish(report: ReplayReport, now: () => number): ReplayReport {
  report.finished_at = new Date(now()).toISOString();
  return report;
}

function sum<T>(rows: T[], f: (row: T) => number): number {
  return rows.reduce((s, r) => s + Number(f(r)), 0);
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

export function formatOutcome(o: Outcomes): string {
  const again = Object.entries(o.quarantined)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  return (
    `staged ${o.staged}, quarantined again ${Object.values(o.quarantined).reduce((a, b) => a + b, 0)}` +
    `${again ? ` (${again})` : ''}, already present ${o.already_present}, failed ${o.failed}` +
    (o.pending ? `, not in the lake yet ${o.pending}` : '')
  );
}
