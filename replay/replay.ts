import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompactionSummary, compactDay, newRunId } from '../compaction/compact.js';
import { MissingDayError } from '../compaction/errors.js';
import { markPendingDays } from '../compaction/pending.js';
import { QUARANTINE_REASONS } from '../events/types.js';
import { type Day, dayOf, replaysDayPrefix } from '../lake/layout.js';
import { DEFAULT_TRANSFORM_LATE_WINDOW_DAYS } from '../lake/settings.js';
import type { ObjectStore } from '../lake/store.js';
import { ReplayEngine, writeEmptyCandidates } from './engine.js';
import { watchOutcomes } from './outcome.js';
import { prepareRecords } from './prepare.js';
import { ReplayInputError, type ReplaySource, readLake, readPayloadFile } from './read.js';
import { byReason, countBy, finish, formatOutcome, type ReplayReport, sum } from './report.js';
import type { SendOptions } from './send.js';

export type { ReasonReport, ReplayReport } from './report.js';

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
//
// The report and its counts are in replay/report.ts, the sending in replay/send.ts.

export const REPLAYABLE_REASONS = QUARANTINE_REASONS.filter((r) => r !== 'duplicate');

export interface ReplayOptions extends SendOptions {
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
  /** Watch the lake until every record sent is found (default true); how long at most. */
  wait?: boolean;
  waitTimeoutMs?: number;
  pollMs?: number;
  /** Compact the days replayed events were staged in (default true); false lists them for the nightly run. */
  compact?: boolean;
  lateWindowDays?: number;
  now?: () => number;
  log?: (line: string) => void;
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
  const runId = newRunId(new Date(startedMs));
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

    // 4. Send, through the front door. The Firehose client loads only now: a dry run needs none.
    const { send } = await import('./send.js');
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
