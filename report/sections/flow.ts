import type { Row } from '../../sql/runner.js';
import type { Scorecard } from '../../sql/scorecard.js';
import { FLOW_COLOURS, type FlowLink, renderSvg, sankey, stackedOverTime } from '../charts.js';
import { chart, count, figure, fillMinutes, num, table, timeSeriesBy } from './parts.js';

// How records move through the day: where each received record went (a Sankey of the
// reconciliation), events per minute, and quarantine over time.

export function flowSection(card: Scorecard): string {
  const r = card.figures.reconciliation?.[0] ?? {};
  const reasons = ((r.quarantined_by_reason ?? []) as { reason: string; records: number }[]).map((x) => ({
    reason: x.reason,
    records: num(x.records),
  }));
  const received = `received ${count(r.received)}`;
  const staged = `staged ${count(r.staged_unique)}`;
  const quarantined = `quarantined ${count(r.quarantined)}`;
  const links: FlowLink[] = [
    { source: received, target: staged, value: num(r.staged_unique) },
    { source: received, target: quarantined, value: num(r.quarantined) },
    {
      source: received,
      target: `processing-failed ${count(r.processing_failed)}`,
      value: num(r.processing_failed),
    },
    ...reasons.map((x) => ({
      source: quarantined,
      target: `${x.reason} ${count(x.records)}`,
      value: x.records,
    })),
    { source: staged, target: `curated ${count(r.curated_rows)}`, value: num(r.curated_rows) },
  ];
  const holds =
    num(r.received) === num(r.staged_unique) + num(r.quarantined) + num(r.processing_failed)
      ? 'holds'
      : 'DOES NOT HOLD';
  const equation = `<p class="equation">${figure('reconciliation.received', r.received, count(r.received))} received = ${figure(
    'reconciliation.staged_unique',
    r.staged_unique,
    count(r.staged_unique),
  )} staged + ${figure('reconciliation.quarantined', r.quarantined, count(r.quarantined))} quarantined + ${figure(
    'reconciliation.processing_failed',
    r.processing_failed,
    count(r.processing_failed),
  )} processing-failed: <strong>${holds}</strong>. Curated rows: ${figure(
    'reconciliation.curated_rows',
    r.curated_rows,
    count(r.curated_rows),
  )}; staged lines (with Firehose's redeliveries): ${figure('reconciliation.staged_lines', r.staged_lines, count(r.staged_lines))}.</p>`;
  const alt = `Of ${count(r.received)} records received, ${count(r.staged_unique)} were staged (${count(
    r.curated_rows,
  )} in curated), ${count(r.quarantined)} quarantined${
    reasons.length ? ` (${reasons.map((x) => `${x.reason} ${count(x.records)}`).join(', ')})` : ''
  } and ${count(r.processing_failed)} failed processing.`;
  return `<section id="flow"><h2>Where every record went</h2>${equation}${chart(
    'chart-flow',
    'Records received, staged, quarantined by reason and failed',
    alt,
    renderSvg(
      sankey(links, (name) =>
        name.startsWith('received')
          ? FLOW_COLOURS.received
          : name.startsWith('staged')
            ? FLOW_COLOURS.staged
            : name.startsWith('curated')
              ? FLOW_COLOURS.curated
              : name.startsWith('processing-failed')
                ? FLOW_COLOURS.failed
                : FLOW_COLOURS.quarantined,
      ),
      340,
    ),
    table(
      ['outcome', 'records'],
      [
        ['received', count(r.received)],
        ['staged (unique events)', count(r.staged_unique)],
        ...reasons.map((x) => [`quarantined: ${x.reason}`, count(x.records)]),
        ['processing-failed', count(r.processing_failed)],
        ['curated rows', count(r.curated_rows)],
      ],
    ),
  )}</section>`;
}

export function volumeSection(rows: Row[], dayStart: number): string {
  const series = fillMinutes(timeSeriesBy(rows, 'minute', 'event_type', 'events'), 60_000);
  const totals = series
    .map((s) => ({ name: s.name, total: s.points.reduce((a, p) => a + p[1], 0) }))
    .sort((a, b) => b.total - a.total);
  const byMinute = new Map<string, Map<string, unknown>>();
  for (const r of rows) {
    const minute = String(r.minute).slice(0, 16);
    const m = byMinute.get(minute) ?? new Map<string, unknown>();
    m.set(String(r.event_type), r.events);
    byMinute.set(minute, m);
  }
  const types = totals.map((t) => t.name);
  const alt = `Events per minute of event time by event type; over the day: ${totals
    .map((t) => `${t.name} ${count(t.total)}`)
    .join(', ')}.`;
  return `<section id="volume"><h2>Events per minute by event type</h2>${chart(
    'chart-volume',
    'Curated events per minute of event time, stacked by event type',
    alt,
    renderSvg(stackedOverTime('area', series, 'events / min', dayStart)),
    table(
      ['minute (UTC)', ...types],
      [...byMinute].map(([minute, m]) => [minute, ...types.map((t) => count(m.get(t) ?? 0))]),
    ),
  )}</section>`;
}

export function quarantineSection(rows: Row[], dayStart: number): string {
  if (rows.length === 0) {
    return '<section id="quarantine"><h2>Quarantined records by reason</h2><p class="note">No record was quarantined on this day.</p></section>';
  }
  const series = timeSeriesBy(rows, 'bucket', 'reason', 'records');
  const alt = `Quarantined records per 10 minutes of arrival, by reason: ${series
    .map((s) => `${s.name} ${count(s.points.reduce((a, p) => a + p[1], 0))}`)
    .join(', ')}.`;
  return `<section id="quarantine"><h2>Quarantined records by reason</h2>${chart(
    'chart-quarantine',
    'Quarantined records per 10 minutes of arrival, stacked by reason',
    alt,
    renderSvg(stackedOverTime('bar', series, 'records / 10 min', dayStart)),
    table(
      ['10 minutes from (UTC)', 'reason', 'records'],
      rows.map((r) => [String(r.bucket).slice(0, 16), String(r.reason), count(r.records)]),
    ),
  )}</section>`;
}
