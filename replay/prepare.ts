import { FIREHOSE_LIMITS } from '../lake/delivery.js';
import { type Day, dayOf } from '../lake/layout.js';
import { DEFAULT_MAX_FUTURE_SKEW_MS } from '../transform/config.js';
import { decodeRecord } from '../transform/decode.js';
import { REPLAY_KEY, replayTagValue } from '../transform/replay-tag.js';
import { FixError, type OutputRow, type SelectedRecord } from './engine.js';

// From the rows to send (the fix's, or the selection as it is) to Firehose records: each one a
// JSON object carrying its origin in the replay tag (transform/replay-tag.ts), checked against
// the current catalog the way the transform will check it, for --dry-run and the report.

const DAY_MS = 86_400_000;

export interface ReplayRecord {
  origin: string;
  /** The reason (or source) of the record it came from. */
  reason: string;
  data: Buffer;
  /** `accept`, or the quarantine reason the current catalog and clock would give it. */
  verdict: string;
  eventUuid: string | null;
  /** The staging day it lands in when accepted. */
  eventDay: Day | null;
}

export interface NotSendable {
  origin: string | null;
  reason: string;
  why: string;
}

export interface PrepareOptions {
  allowLate: boolean;
  lateWindowDays: number;
  nowMs: number;
}

export function prepareRecords(
  rows: readonly OutputRow[],
  selected: readonly SelectedRecord[],
  options: PrepareOptions,
): { records: ReplayRecord[]; notSendable: NotSendable[] } {
  const byOrigin = new Map(selected.map((s) => [s.origin, s]));
  // A fix that returns no origin: each row takes the origin of a selected record with its uuid.
  const byUuid = new Map<string, SelectedRecord[]>();
  for (const s of selected) {
    if (s.event_uuid === null) continue;
    const list = byUuid.get(s.event_uuid) ?? [];
    list.push(s);
    byUuid.set(s.event_uuid, list);
  }
  const used = new Set<string>();
  const records: ReplayRecord[] = [];
  const notSendable: NotSendable[] = [];
  for (const [i, row] of rows.entries()) {
    let value: unknown;
    let parsed = false;
    if (row.payload !== null) {
      try {
        value = JSON.parse(row.payload);
        parsed = true;
      } catch {
        parsed = false;
      }
    }
    const object = parsed && value !== null && typeof value === 'object' && !Array.isArray(value);
    const record = object ? (value as Record<string, unknown>) : undefined;
    let source: SelectedRecord | undefined;
    if (row.origin !== null) {
      source = byOrigin.get(row.origin);
      if (!source)
        throw new FixError(`row ${i + 1} of the fix returns origin ${row.origin}, which was not selected`);
    } else {
      const uuid = typeof record?.event_uuid === 'string' ? record.event_uuid : undefined;
      source = uuid === undefined ? undefined : byUuid.get(uuid)?.find((s) => !used.has(s.origin));
      if (!source) {
        // Without an origin the record cannot be accounted for: refuse before anything is sent.
        throw new FixError(
          `row ${i + 1} of the fix has no origin: return the origin column of quarantined, or keep the event_uuid`,
        );
      }
    }
    if (used.has(source.origin)) {
      throw new FixError(`the fix returns origin ${source.origin} twice: one record per origin`);
    }
    used.add(source.origin);
    if (!record) {
      notSendable.push({
        origin: source.origin,
        reason: source.reason,
        why:
          row.payload === null ? 'no payload (fix it with --fix)' : 'not a JSON object (fix it with --fix)',
      });
      continue;
    }
    // The origin replaces any tag the record carries (a replay that failed again).
    record[REPLAY_KEY] = replayTagValue({
      from: source.origin,
      allowLate: options.allowLate,
      originalArrivalMs: source.arrival_ms,
    });
    const data = Buffer.from(JSON.stringify(record));
    if (data.length > FIREHOSE_LIMITS.maxRecordBytes) {
      notSendable.push({
        origin: source.origin,
        reason: source.reason,
        why: 'over the 1,000 KiB record limit',
      });
      continue;
    }
    const { verdict, createdAtMs, eventUuid } = judge(data, options);
    records.push({
      origin: source.origin,
      reason: source.reason,
      data,
      verdict,
      eventUuid,
      eventDay: verdict === 'accept' && createdAtMs !== null ? dayOf(createdAtMs) : null,
    });
  }
  return { records, notSendable };
}

/** What the transform will do with a record, as far as the catalog and the clock decide it. */
function judge(
  data: Buffer,
  options: PrepareOptions,
): { verdict: string; createdAtMs: number | null; eventUuid: string | null } {
  const decoded = decodeRecord(data.toString('base64'));
  if (!decoded.ok)
    return { verdict: decoded.reason, createdAtMs: decoded.createdAtMs, eventUuid: decoded.eventUuid };
  const t = decoded.createdAtMs;
  let verdict = 'accept';
  if (t > options.nowMs + DEFAULT_MAX_FUTURE_SKEW_MS) verdict = 'future_timestamp';
  else if (t < options.nowMs - options.lateWindowDays * DAY_MS && !options.allowLate) verdict = 'too_late';
  return { verdict, createdAtMs: t, eventUuid: decoded.uuid };
}
