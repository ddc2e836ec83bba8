import type { Day } from '../lake/layout.js';
import type { SelectionRow } from './engine.js';
import type { Outcomes } from './outcome.js';
import type { NotSendable, ReplayRecord } from './prepare.js';
import type { Unreadable } from './read.js';

// What a replay reports: the run's report (the CLI prints it, the run's record keeps it) and the
// counts in it.

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

export function byReason(
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

export function finish(report: ReplayReport, now: () => number): ReplayReport {
  report.finished_at = new Date(now()).toISOString();
  return report;
}

export function sum<T>(rows: T[], f: (row: T) => number): number {
  return rows.reduce((s, r) => s + Number(f(r)), 0);
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
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
