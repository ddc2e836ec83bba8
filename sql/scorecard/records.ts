import type { Row } from '../runner.js';
import { type CheckList, type Figures, num, pct } from './checks.js';

// The checks on the records themselves: required fields present (completeness), records refused
// as invalid (validity), repeats (uniqueness), and how late events arrive (freshness).

export function recordChecks(list: CheckList, figures: Figures): void {
  const { add } = list;
  const r = figures.reconciliation![0]!;

  // Completeness: one check per event name, on its worst required field.
  const byEvent = new Map<string, Row[]>();
  for (const row of figures.completeness!) {
    const name = String(row.event_name);
    byEvent.set(name, [...(byEvent.get(name) ?? []), row]);
  }
  for (const [name, rows] of byEvent) {
    const events = num(rows[0]?.events);
    const missing = rows.filter((x) => num(x.missing) > 0);
    const worst = Math.max(0, ...rows.map((x) => num(x.missing_share)));
    add(
      `completeness.${name}`,
      events ? worst : null,
      events === 0
        ? 'no events of this name'
        : missing.length === 0
          ? `${events} events, every required field present (${rows.length} fields)`
          : `${events} events; missing: ${missing.map((x) => `${x.field} ${num(x.missing)} (${pct(num(x.missing_share))})`).join(', ')}`,
    );
  }

  // Validity.
  const received = num(r.received);
  const invalid = figures.validity!.filter((x) => x.reason !== 'duplicate');
  const invalidCount = invalid.reduce((s, x) => s + num(x.records), 0);
  add(
    'validity.invalid_share',
    received ? invalidCount / received : 0,
    `${invalidCount} of ${received} received records quarantined as invalid (duplicates aside)`,
  );
  for (const row of figures.validity!) {
    add(
      `validity.${String(row.reason)}`,
      num(row.share_of_received),
      `${num(row.records)} records (${pct(num(row.share_of_received))} of received)`,
    );
  }

  // Uniqueness.
  const u = figures.uniqueness![0]!;
  add(
    'uniqueness.ingest_duplicate_rate',
    num(u.ingest_duplicate_rate),
    `${num(u.ingest_duplicates)} resends stopped at ingest (duplicate tombstones), ${num(u.uuid_conflicts)} uuid conflicts`,
  );
  add(
    'uniqueness.staging_duplicate_rate',
    num(u.staging_duplicate_rate),
    `${num(u.staging_duplicates)} staged lines repeat an event (at-least-once delivery; compaction drops them)`,
  );
  add(
    'uniqueness.curated_duplicate_uuids',
    num(u.curated_duplicate_uuids),
    `${num(u.curated_duplicate_uuids)} event_uuids more than once in curated`,
  );

  // Freshness.
  const f = figures.freshness![0]!;
  const events = num(f.events);
  // A backfill is set apart, never dropped: the detail says how many and how old they were.
  const backfilled = num(f.backfilled);
  const backfill = backfilled
    ? `; ${backfilled} events created before the live window (from ${String(f.live_from)}) were ` +
      `backfilled, not judged: p50 ${num(f.backfilled_p50_seconds).toFixed(1)} s, max ${num(f.backfilled_max_seconds).toFixed(0)} s`
    : '';
  for (const p of ['p50', 'p95', 'p99'] as const) {
    const v = f[`${p}_seconds`];
    add(
      `freshness.${p}_seconds`,
      events ? num(v) : null,
      (events
        ? `received_at - created_at ${p} ${num(v).toFixed(1)} s${backfilled ? ` over ${events} live events` : ''}`
        : backfilled
          ? 'no live events'
          : 'no curated events') + backfill,
    );
  }
  add(
    'freshness.later_than_1h_share',
    events ? num(f.later_than_1h_share) : null,
    `${num(f.later_than_1h)} events received more than an hour after they were created; ` +
      `max ${num(f.max_seconds).toFixed(0)} s; ${num(f.clock_ahead)} with the app's clock ahead`,
  );
}
