import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QUARANTINE_REASONS } from '../events/types.js';
import { BAD_KINDS, type GeneratorStats } from '../generator/stats.js';
import { type Day, dayOf } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { LakeDay, LakeSqlError, NoDataError, type Row, SQL_DIR } from './runner.js';

// The data-quality scorecard of one day: the SQL of sql/quality/ gives the figures, this file
// holds them against thresholds (sql/quality/thresholds.json, overridable) and gives each check a
// status, as Deequ, Great Expectations or Soda checks do. A scheduler gates on `failed`.

export type Status = 'pass' | 'warn' | 'fail';
export type Dimension =
  | 'reconciliation'
  | 'completeness'
  | 'validity'
  | 'uniqueness'
  | 'freshness'
  | 'volume'
  | 'enrichment'
  | 'consistency'
  | 'vocabulary'
  | 'bounds';

export interface Bounds {
  warn: number;
  /** null: the check only warns, never fails. */
  fail: number | null;
}

export interface Thresholds {
  history_days: number;
  /** Hours whose baseline is below min_baseline events are too thin to judge. */
  volume: { drop_below: number; spike_above: number; min_baseline: number };
  checks: Record<string, Bounds>;
}

/** A --thresholds file: any subset of the defaults. */
export interface ThresholdOverrides {
  history_days?: number;
  volume?: Partial<Thresholds['volume']>;
  checks?: Record<string, Bounds>;
}

export interface Check {
  /** `dimension.name[.subject]`, the key of its threshold. */
  id: string;
  dimension: Dimension;
  /** The figure the status is decided on; null when there is nothing to measure. */
  figure: number | null;
  /** `max`: the figure must stay at or below the bounds; `min`: at or above. */
  direction: 'max' | 'min';
  threshold: Bounds;
  status: Status;
  detail: string;
}

export interface Scorecard {
  day: Day;
  lake: string;
  as_of: string;
  status: Status;
  counts: Record<Status, number>;
  checks: Check[];
  /** Every figure the SQL returned, by query, for machines and for digging into a failure. */
  figures: Record<string, Row[]>;
}

export interface ScorecardOptions {
  store: ObjectStore;
  day: Day;
  /** The generator's --stats file (generator/stats.ts): also reconcile against what was sent. */
  stats?: GeneratorStats;
  /** Overrides merged over the defaults. */
  thresholds?: ThresholdOverrides;
  asOf?: Date;
  /**
   * Start of the live window: events created before it were backfilled (history sent in bulk),
   * so the freshness checks judge the events created from then on and report the rest apart.
   */
  liveFrom?: Date;
}

export class ThresholdsError extends LakeSqlError {
  static override readonly code: string = 'THRESHOLDS_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ThresholdsError';
  }
}

export const DEFAULT_THRESHOLDS_FILE = join(SQL_DIR, 'quality', 'thresholds.json');

/** The default thresholds merged with a partial override (a --thresholds file). */
export async function loadThresholds(overrides: ThresholdOverrides = {}): Promise<Thresholds> {
  const defaults = JSON.parse(await readFile(DEFAULT_THRESHOLDS_FILE, 'utf8')) as Thresholds;
  const merged: Thresholds = {
    history_days: overrides.history_days ?? defaults.history_days,
    volume: { ...defaults.volume, ...overrides.volume },
    checks: { ...defaults.checks, ...overrides.checks },
  };
  // A misspelt id would silently keep the default: refuse ids no check answers to.
  const wildcards = Object.keys(defaults.checks)
    .filter((k) => k.endsWith('.*'))
    .map((k) => k.slice(0, -1));
  for (const id of Object.keys(overrides.checks ?? {})) {
    if (!(id in defaults.checks) && !wildcards.some((w) => id.startsWith(w))) {
      throw new ThresholdsError(`unknown check ${id} in thresholds (see sql/quality/thresholds.json)`);
    }
  }
  for (const [id, b] of Object.entries(merged.checks)) {
    if (!Number.isFinite(b?.warn) || !(b?.fail === null || Number.isFinite(b?.fail))) {
      throw new ThresholdsError(`threshold ${id} needs numbers "warn" and "fail" (or "fail": null)`);
    }
  }
  for (const [name, v] of Object.entries(merged.volume)) {
    if (!Number.isFinite(v) || v < 0) throw new ThresholdsError(`volume.${name} must be a number >= 0`);
  }
  if (!Number.isInteger(merged.history_days) || merged.history_days < 0) {
    throw new ThresholdsError('history_days must be a whole number >= 0');
  }
  return merged;
}

/** Reads a --thresholds file. */
export async function readThresholdsFile(path: string): Promise<ThresholdOverrides> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ThresholdOverrides;
  } catch (error) {
    throw new ThresholdsError(`cannot read thresholds ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The status of a figure against bounds, in a direction. */
export function judge(figure: number | null, bounds: Bounds, direction: 'max' | 'min'): Status {
  if (figure === null || Number.isNaN(figure)) return 'pass';
  if (direction === 'max') {
    return figure <= bounds.warn ? 'pass' : bounds.fail === null || figure <= bounds.fail ? 'warn' : 'fail';
  }
  return figure >= bounds.warn ? 'pass' : bounds.fail === null || figure >= bounds.fail ? 'warn' : 'fail';
}

function boundsOf(thresholds: Thresholds, id: string): Bounds {
  const exact = thresholds.checks[id];
  if (exact) return exact;
  // The longest `prefix.*` that matches: `validity.*` for `validity.schema_violation`.
  const parts = id.split('.');
  for (let n = parts.length - 1; n > 0; n--) {
    const wild = thresholds.checks[`${parts.slice(0, n).join('.')}.*`];
    if (wild) return wild;
  }
  throw new ThresholdsError(`no threshold for check ${id}`);
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const pct = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.001 ? 4 : 2)}%`;

/** Runs every check of the scorecard over one day of the lake. */
/** The scorecard's queries, sql/quality/<name>.sql, in the order they run. */
export const SCORECARD_QUERIES = [
  'reconciliation',
  'completeness',
  'validity',
  'uniqueness',
  'freshness',
  'volume',
  'enrichment',
  'consistency',
  'vocabulary',
  'bounds',
  'replays',
] as const;

export async function runScorecard(options: ScorecardOptions): Promise<Scorecard> {
  const thresholds = await loadThresholds(options.thresholds);
  const asOf = options.asOf ?? new Date();
  const lake = await LakeDay.open({
    store: options.store,
    day: options.day,
    historyDays: thresholds.history_days,
    asOf,
    liveFrom: options.liveFrom,
  });
  try {
    const reason = lake.noDataReason();
    if (reason) throw new NoDataError(reason);
    const figures: Record<string, Row[]> = {};
    for (const name of SCORECARD_QUERIES) {
      figures[name] = (await lake.query(`quality/${name}.sql`)).rows;
    }
    const checks = buildChecks(figures, thresholds, lake.inventory.compacted, options);
    const counts: Record<Status, number> = { pass: 0, warn: 0, fail: 0 };
    for (const c of checks) counts[c.status]++;
    return {
      day: options.day,
      lake: options.store.location,
      as_of: asOf.toISOString(),
      status: counts.fail ? 'fail' : counts.warn ? 'warn' : 'pass',
      counts,
      checks,
      figures,
    };
  } finally {
    await lake.close();
  }
}

function buildChecks(
  figures: Record<string, Row[]>,
  thresholds: Thresholds,
  compacted: boolean,
  options: ScorecardOptions,
): Check[] {
  const checks: Check[] = [];
  const add = (
    id: string,
    figure: number | null,
    detail: string,
    direction: 'max' | 'min' = 'max',
    override?: { bounds?: Bounds; status?: Status },
  ) => {
    const threshold = override?.bounds ?? boundsOf(thresholds, id);
    const judged = judge(figure, threshold, direction);
    // An override can only make a status worse (a --stats run outside the day), never better.
    const rank = { pass: 0, warn: 1, fail: 2 } as const;
    const status = override?.status && rank[override.status] > rank[judged] ? override.status : judged;
    checks.push({
      id,
      dimension: id.split('.')[0] as Dimension,
      figure,
      direction,
      threshold,
      status,
      detail,
    });
  };

  // Reconciliation.
  const r = figures.reconciliation![0]!;
  const byReason = Object.fromEntries(
    ((r.quarantined_by_reason ?? []) as { reason: string; records: unknown }[]).map((x) => [
      x.reason,
      num(x.records),
    ]),
  ) as Record<string, number>;
  const reasons = Object.entries(byReason)
    .map(([k, v]) => `${k} ${num(v)}`)
    .join(', ');
  const unknownReasons = Object.entries(byReason)
    .filter(([k]) => !(QUARANTINE_REASONS as readonly string[]).includes(k))
    .reduce((sum, [, v]) => sum + num(v), 0);
  add(
    'reconciliation.unknown_reason',
    unknownReasons,
    `received ${num(r.received)} = staged ${num(r.staged_unique)} + quarantined ${num(r.quarantined)}` +
      `${reasons ? ` (${reasons})` : ''} + processing-failed ${num(r.processing_failed)}` +
      (unknownReasons ? `; ${unknownReasons} quarantined with a reason Firelake does not know` : ''),
  );
  const notCurated = num(r.staged_not_curated);
  const notStaged = num(r.curated_not_staged);
  add(
    'reconciliation.staged_vs_curated',
    notCurated + notStaged,
    compacted
      ? `staged unique ${num(r.staged_unique)}, curated rows ${num(r.curated_rows)}: ` +
          `${notCurated} staged events not in curated, ${notStaged} curated events not in staging`
      : `day not compacted (no curated/_manifests/${options.day}.json): ${notCurated} staged events ` +
          `not in curated; run firelake compact --date ${options.day}`,
  );
  add(
    'reconciliation.manifest_rows',
    Math.abs(num(r.manifest_rows) - num(r.curated_rows)),
    `manifest says ${num(r.manifest_rows)} rows, its Parquet files hold ${num(r.curated_rows)}`,
  );
  add(
    'reconciliation.orphan_tombstones',
    num(r.orphan_tombstones),
    `duplicate/conflict tombstones whose kept event is neither staged this day nor curated on an ` +
      `earlier compacted day (${num(r.tombstones_unchecked)} of days outside the history not checked)`,
  );
  add(
    'reconciliation.late_objects',
    num(r.staging_objects_not_compacted),
    'staging objects that landed after the day was compacted (the next compaction picks them up)',
  );
  if (options.stats) checks.push(...sentChecks(options.stats, r, byReason, thresholds, options.day));
  const rp = figures.replays?.[0];
  if (
    rp &&
    (num(rp.runs) > 0 ||
      num(rp.staged) + num(rp.quarantined_again) + num(rp.already_present) + num(rp.failed) > 0)
  ) {
    const again = ((rp.quarantined_again_by_reason ?? []) as { reason: string; records: unknown }[])
      .map((x) => `${x.reason} ${num(x.records)}`)
      .join(', ');
    add(
      'reconciliation.replays',
      num(rp.unaccounted),
      `${num(rp.runs)} replay run(s) (${num(rp.interrupted)} interrupted): selected ${num(rp.selected)}, sent ` +
        `${num(rp.sent)} = staged ${num(rp.run_staged)} + quarantined again ${num(rp.run_quarantined_again)} + ` +
        `already present ${num(rp.run_already_present)} + failed ${num(rp.run_failed)} + not seen ${num(rp.unaccounted)}; ` +
        `replayed records in this day's lake: staged ${num(rp.staged)}, quarantined again ${num(rp.quarantined_again)}` +
        `${again ? ` (${again})` : ''}, already present ${num(rp.already_present)}, failed ${num(rp.failed)}`,
    );
  }

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

  // Volume.
  checks.push(...volumeChecks(figures.volume!, thresholds));

  // Enrichment.
  const e = figures.enrichment![0]!;
  const lessons = num(e.lessons);
  add(
    'enrichment.country_share',
    lessons ? num(e.country_share) : null,
    lessons
      ? `${num(e.with_country)} of ${lessons} lesson events have a country (${num(e.missing_user) + num(e.missing_both)} without a known user)`
      : 'no lesson events',
    'min',
  );
  add(
    'enrichment.subscription_share',
    lessons ? num(e.subscription_share) : null,
    lessons
      ? `${num(e.with_subscription)} of ${lessons} lesson events have a subscription for their language`
      : 'no lesson events',
    'min',
  );

  // Consistency.
  const c = figures.consistency![0]!;
  add(
    'consistency.completed_over_total',
    num(c.completed_over_total),
    `${num(c.completed_over_total)} of ${num(c.lessons)} lessons completed more lessons than the course has`,
  );
  add(
    'consistency.percentage_mismatch',
    num(c.percentage_mismatch),
    `${num(c.percentage_mismatch)} of ${num(c.lessons)} lessons with a percentage 1 point or more off completed/total`,
  );
  add(
    'consistency.non_positive_period',
    num(c.non_positive_period),
    `${num(c.non_positive_period)} of ${num(c.subscriptions)} subscription events with a period <= 0 days`,
  );

  // Vocabulary and bounds: what the app is expected to send (x-expected in events/schemas.ts).
  for (const v of figures.vocabulary!) {
    const values = num(v.values);
    const top = (v.top_unexpected ?? []) as { value: string; count: unknown }[];
    add(
      `vocabulary.${String(v.field)}`,
      values ? num(v.unexpected_share) : null,
      values === 0
        ? 'no values'
        : top.length === 0
          ? `${values} values, all expected`
          : `${num(v.unexpected)} of ${values} values not expected: ` +
            top.map((t) => `${JSON.stringify(t.value)} ${num(t.count)}`).join(', ') +
            (num(v.unexpected) > top.reduce((sum, t) => sum + num(t.count), 0) ? ', ...' : ''),
    );
  }
  for (const b of figures.bounds!) {
    const values = num(b.values);
    const range = `${b.minimum ?? '-inf'}..${b.maximum ?? 'inf'}`;
    const what = b.measure === 'length' ? 'lengths' : 'values';
    add(
      `bounds.${String(b.field)}`,
      values ? num(b.outside_share) : null,
      values === 0
        ? 'no values'
        : `${num(b.outside)} of ${values} ${what} outside ${range} (seen ${num(b.lowest)}..${num(b.highest)})`,
    );
  }
  return checks;
}

/** Volume: missing hours, drops and spikes against the history (or the day's own median). */
function volumeChecks(rows: Row[], thresholds: Thresholds): Check[] {
  const historyDays = num(rows[0]?.history_days);
  // Without history, the day is its own baseline: the median of its hours between the first
  // and the last with events (a pipeline that started at 10:00 is not "missing" 0-9).
  const inSpan = rows.filter((x) => x.within_day_span === true && x.due === true).map((x) => num(x.events));
  const sorted = [...inSpan].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const dayMedian = sorted.length
    ? sorted.length % 2
      ? sorted[Math.floor(mid)]!
      : (sorted[mid - 1]! + sorted[mid]!) / 2
    : 0;
  const missing: number[] = [];
  const drops: string[] = [];
  const spikes: string[] = [];
  for (const x of rows) {
    if (x.due !== true) continue;
    const hour = num(x.hour);
    const eventsInHour = num(x.events);
    const baseline = historyDays > 0 ? num(x.baseline) : x.within_day_span === true ? dayMedian : 0;
    if (baseline <= 0 || baseline < thresholds.volume.min_baseline) continue;
    const ratio = eventsInHour / baseline;
    const label = `${String(hour).padStart(2, '0')}h ${eventsInHour} vs ${baseline}`;
    if (eventsInHour === 0) missing.push(hour);
    else if (ratio < thresholds.volume.drop_below) drops.push(label);
    else if (ratio > thresholds.volume.spike_above) spikes.push(label);
  }
  const base =
    historyDays > 0 ? `against the median of ${historyDays} previous days` : "against the day's own median";
  const make = (id: string, figure: number, detail: string): Check => {
    const threshold = boundsOf(thresholds, id);
    return {
      id,
      dimension: 'volume',
      figure,
      direction: 'max',
      threshold,
      status: judge(figure, threshold, 'max'),
      detail,
    };
  };
  return [
    make(
      'volume.missing_hours',
      missing.length,
      missing.length
        ? `hours with no events ${base}: ${missing.map((h) => `${String(h).padStart(2, '0')}h`).join(', ')}`
        : `every due hour has events (${base})`,
    ),
    make(
      'volume.drops',
      drops.length,
      drops.length
        ? `below ${thresholds.volume.drop_below}x ${base}: ${drops.join('; ')}`
        : `no hour below ${thresholds.volume.drop_below}x ${base}`,
    ),
    make(
      'volume.spikes',
      spikes.length,
      spikes.length
        ? `above ${thresholds.volume.spike_above}x ${base}: ${spikes.join('; ')}`
        : `no hour above ${thresholds.volume.spike_above}x ${base}`,
    ),
  ];
}

/** Reconciliation against the generator's ground truth. */
function sentChecks(
  stats: GeneratorStats,
  r: Row,
  byReason: Record<string, number>,
  thresholds: Thresholds,
  day: Day,
): Check[] {
  // Undelivered records could be of any kind: each comparison may be off by up to that many.
  const slack = stats.undelivered;
  const outside = dayOf(Date.parse(stats.start)) !== day || dayOf(Date.parse(stats.end)) !== day;
  const expectedByReason = new Map<string, number>();
  for (const [kind, n] of Object.entries(stats.bad_by_kind)) {
    const reason = BAD_KINDS[kind as keyof typeof BAD_KINDS];
    if (reason) expectedByReason.set(reason, (expectedByReason.get(reason) ?? 0) + n);
  }
  const oversized = stats.bad_by_kind.oversized ?? 0;
  const pairs: [string, number, number][] = [
    ['received', num(r.received), stats.records - stats.undelivered],
    ['unique_events', num(r.staged_unique), stats.unique_events],
    ['duplicate', num(byReason.duplicate), stats.duplicates],
    ['uuid_conflict', num(byReason.uuid_conflict), stats.conflicts],
    ...[...expectedByReason].map(
      ([reason, n]) => [reason, num(byReason[reason]), n] as [string, number, number],
    ),
  ];
  return pairs.map(([name, lakeCount, sent]) => {
    const id = `reconciliation.sent.${name}`;
    const configured = boundsOf(thresholds, id);
    const threshold = {
      warn: configured.warn,
      fail: configured.fail === null ? null : configured.fail + slack,
    };
    const figure = Math.abs(lakeCount - sent);
    let status = judge(figure, threshold, 'max');
    if (outside && status === 'pass' && figure !== 0) status = 'warn';
    return {
      id,
      dimension: 'reconciliation' as const,
      figure,
      direction: 'max' as const,
      threshold,
      status,
      detail:
        `lake ${lakeCount}, generator ${sent}` +
        (name === 'received' && oversized ? ` (${oversized} oversized refused before sending)` : '') +
        (slack ? `; ${slack} undelivered records allowed for` : '') +
        (outside ? `; the generator ran ${stats.start}..${stats.end}, beyond ${day}` : ''),
    };
  });
}

/** The scorecard as a table for people. */
export function formatScorecard(card: Scorecard): string {
  const rows = card.checks.map((c) => [
    c.status.toUpperCase(),
    c.id,
    c.figure === null ? '-' : formatFigure(c, c.figure),
    `${c.direction === 'max' ? '<=' : '>='} ${formatFigure(c, c.threshold.warn)} warn, ` +
      (c.threshold.fail === null ? 'never fails' : `${formatFigure(c, c.threshold.fail)} fail`),
    c.detail,
  ]);
  const head = ['STATUS', 'CHECK', 'FIGURE', 'THRESHOLD', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  widths[4] = 0;
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `Firelake data quality, ${card.day}, ${card.lake} (as of ${card.as_of})`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `${card.status.toUpperCase()}: ${card.counts.pass} pass, ${card.counts.warn} warn, ${card.counts.fail} fail`,
  ].join('\n');
}

/** A check's figure as the table prints it (shares as percentages). */
export function formatFigure(c: Pick<Check, 'id' | 'dimension'>, value: number): string {
  const share =
    /_(share|rate)$/.test(c.id) || ['completeness', 'validity', 'vocabulary', 'bounds'].includes(c.dimension);
  if (share) return pct(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
