import { QUARANTINE_REASONS } from '../../events/types.js';
import { BAD_KINDS, type GeneratorStats } from '../../generator/stats.js';
import { type Day, dayOf } from '../../lake/layout.js';
import type { Row } from '../runner.js';
import { type CheckList, type Figures, judge, num } from './checks.js';
import type { Bounds, Check, ScorecardOptions } from './types.js';

// Reconciliation: every record received is staged, quarantined or failed, every staged event is
// curated once, the snapshot matches its files, tombstones point at a kept event, replays add up,
// and (with the generator's --stats) the lake matches what was sent.

/** The reconciliation checks of sql/quality/reconciliation.sql and replays.sql. */
export function reconciliationChecks(
  list: CheckList,
  figures: Figures,
  compacted: boolean,
  options: ScorecardOptions,
): void {
  const { add, checks } = list;
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
      : `day not compacted (not in the curated table): ${notCurated} staged events ` +
          `not in curated; run firelake compact --date ${options.day}`,
  );
  add(
    'reconciliation.manifest_rows',
    Math.abs(num(r.manifest_rows) - num(r.curated_rows)),
    `the snapshot says ${num(r.manifest_rows)} rows, its Parquet files hold ${num(r.curated_rows)}`,
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
  if (options.stats) checks.push(...sentChecks(options.stats, r, byReason, list.bounds, options.day));
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
}

/** Reconciliation against the generator's ground truth. */
export function sentChecks(
  stats: GeneratorStats,
  r: Row,
  byReason: Record<string, number>,
  bounds: (id: string) => Bounds,
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
    const configured = bounds(id);
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
