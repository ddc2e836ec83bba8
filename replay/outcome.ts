import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { type Day, dayOf, dayPrefix, errorsDayPrefix, parsePartitions } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { REPLAY_KEY } from '../transform/replay-tag.js';
import { daysBetween } from './read.js';

// Where the records a replay sent ended: Firehose delivers asynchronously (buffers of seconds
// locally, a minute in AWS), so the replay watches the lake for lines that carry its origins,
// in objects written since it started: staged (staging of the events' days), quarantined again
// or already present (a `duplicate` tombstone: dedup found the event in the lake), or failed
// (errors/, the tag inside rawData). Every record sent ends in exactly one of them.

export type OutcomeKind = 'staged' | 'quarantined' | 'already_present' | 'failed';

export interface Outcomes {
  staged: number;
  /** Quarantined again, by reason (duplicate tombstones are `already_present`). */
  quarantined: Record<string, number>;
  already_present: number;
  failed: number;
  /** Sent, and not found in the lake before the wait ended. */
  pending: number;
  /** The days replayed events were staged in (their event-time days). */
  staged_days: Day[];
}

const RANK: Record<OutcomeKind, number> = { staged: 3, quarantined: 2, already_present: 1, failed: 0 };
/** Object times (S3: whole seconds) against the replay's clock. */
const CLOCK_SLACK_MS = 5_000;
/**
 * A line's arrival against the replay's start: the same origin sent by an earlier replay arrived
 * before this one started (each run watches until its records are in), so lines are matched by
 * origin and arrival; one replay of a selection at a time.
 */
const ARRIVAL_SLACK_MS = 1_000;

export interface WatchOptions {
  store: ObjectStore;
  /** Origins sent, with the staging day each would land in (null: it is not expected in staging). */
  sent: ReadonlyMap<string, Day | null>;
  /** How many of them Firehose took (the rest were given up after retries): found, the watch ends. */
  delivered: number;
  sinceMs: number;
  timeoutMs: number;
  pollMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export async function watchOutcomes(options: WatchOptions): Promise<Outcomes> {
  const { store, sent } = options;
  const found = new Map<string, { kind: OutcomeKind; reason?: string }>();
  const stagedDays = new Set<Day>();
  const read = new Set<string>();
  const since = options.sinceMs - CLOCK_SLACK_MS;
  const arrivedSince = options.sinceMs - ARRIVAL_SLACK_MS;
  const arrivedAfterStart = (iso: unknown) => typeof iso === 'string' && Date.parse(iso) >= arrivedSince;
  const stagingDays = new Set<Day>();
  for (const d of sent.values()) if (d !== null) stagingDays.add(d);
  const deadline = Date.now() + options.timeoutMs;
  const mark = (origin: string, kind: OutcomeKind, reason?: string) => {
    if (!sent.has(origin)) return;
    const previous = found.get(origin);
    if (!previous || RANK[kind] > RANK[previous.kind]) found.set(origin, { kind, reason });
  };

  for (let round = 0; ; round++) {
    const arrivalDays = daysBetween(dayOf(options.sinceMs), dayOf(Date.now()));
    // Staging: by event time, so the days the events belong to; anything else: by arrival.
    const prefixes: [string, 'staging' | 'quarantine' | 'errors'][] = [
      ...[...stagingDays].map((d) => [dayPrefix('staging', d), 'staging'] as [string, 'staging']),
      ...arrivalDays.map((d) => [dayPrefix('quarantine', d), 'quarantine'] as [string, 'quarantine']),
      ...arrivalDays.flatMap((d) =>
        (['processing-failed', 'partitioning-failed'] as const).map(
          (t) => [errorsDayPrefix(d, t), 'errors'] as [string, 'errors'],
        ),
      ),
    ];
    for (const [prefix, dataset] of prefixes) {
      for await (const object of store.list(prefix)) {
        if (read.has(object.key) || object.lastModified.getTime() < since) continue;
        if (object.key.endsWith('.tmp') || object.key.endsWith('.lock')) continue;
        read.add(object.key);
        for (const line of linesOf(await store.get(object.key))) {
          if (!line.includes(dataset === 'errors' ? '"rawData"' : '"replayed_from"')) continue;
          const value = JSON.parse(line) as Record<string, unknown>;
          if (dataset === 'errors') {
            const origin = Number(value.arrivalTimestamp) >= arrivedSince ? tagOf(value.rawData) : null;
            if (origin !== null) mark(origin, 'failed');
            continue;
          }
          if (!arrivedAfterStart(value.received_at)) continue;
          if (dataset === 'staging') {
            const origin = value.replayed_from as string;
            if (sent.has(origin)) {
              mark(origin, 'staged');
              const p = parsePartitions(object.key);
              stagedDays.add(`${p.year}-${p.month}-${p.day}`);
            }
          } else {
            const origin = value.replayed_from as string;
            if (value.reason === 'duplicate') mark(origin, 'already_present');
            else mark(origin, 'quarantined', String(value.reason));
          }
        }
      }
    }
    const left = options.delivered - found.size;
    if (left <= 0 || Date.now() >= deadline || options.signal?.aborted) break;
    if (round % 5 === 0)
      options.log?.(`waiting for ${left} of ${options.delivered} records to reach the lake`);
    await sleep(options.pollMs ?? 1_000);
  }

  const outcomes: Outcomes = {
    staged: 0,
    quarantined: {},
    already_present: 0,
    failed: 0,
    pending: Math.max(0, options.delivered - found.size),
    staged_days: [...stagedDays].sort(),
  };
  for (const { kind, reason } of found.values()) {
    if (kind === 'quarantined') outcomes.quarantined[reason!] = (outcomes.quarantined[reason!] ?? 0) + 1;
    else outcomes[kind]++;
  }
  return outcomes;
}

function linesOf(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  const plain = buffer[0] === 0x1f && buffer[1] === 0x8b ? gunzipSync(buffer) : buffer;
  return plain
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** The replay origin inside an errors/ record's rawData, if it carries one. */
function tagOf(rawData: unknown): string | null {
  if (typeof rawData !== 'string') return null;
  try {
    const v = JSON.parse(Buffer.from(rawData, 'base64').toString('utf8')) as Record<string, unknown>;
    const tag = v?.[REPLAY_KEY] as { from?: unknown } | undefined;
    return typeof tag?.from === 'string' ? tag.from : null;
  } catch {
    return null;
  }
}
