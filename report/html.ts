import { parseDay } from '../lake/layout.js';
import type { Row } from '../sql/runner.js';
import { type Check, formatFigure, type Scorecard } from '../sql/scorecard.js';
import {
  type CategorySeries,
  categoryChart,
  FLOW_COLOURS,
  type FlowLink,
  renderSvg,
  sankey,
  stackedOverTime,
  type TimeSeries,
} from './charts.js';
import type { DayReport, ReportData } from './collect.js';

// The report as one HTML page: inline CSS, charts as inline SVG, every figure also as text (a
// table under each chart), and the collected data as JSON in the page for machines. No script
// runs and nothing is fetched, so it works from file:// with the network off.

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const count = (v: unknown) => num(v).toLocaleString('en-US');
const percent = (share: unknown, digits = 2) =>
  share === null || share === undefined ? '-' : `${(num(share) * 100).toFixed(digits)}%`;
const seconds = (v: unknown) => (v === null || v === undefined ? '-' : `${num(v).toFixed(1)} s`);
const mib = (bytes: unknown) => `${(num(bytes) / 2 ** 20).toFixed(num(bytes) < 2 ** 20 ? 3 : 1)} MiB`;

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A figure of the scorecard JSON, marked so a test (or a scraper) finds it and its raw value. */
function figure(key: string, value: unknown, text: string): string {
  return `<span class="figure" data-figure="${escapeHtml(key)}" data-value="${escapeHtml(value === null || value === undefined ? '' : String(value))}">${escapeHtml(text)}</span>`;
}

function table(headers: string[], rows: (string | number)[][], caption?: string): string {
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}<thead><tr>${headers
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A chart: title, the SVG with its text alternative, and its numbers in a table below. */
function chart(id: string, title: string, alt: string, svg: string, numbers: string): string {
  return `<figure class="chart" id="${id}" data-chart="${id}">
<figcaption>${escapeHtml(title)}</figcaption>
<div class="svg" role="img" aria-label="${escapeHtml(alt)}">${svg}</div>
<p class="alt">${escapeHtml(alt)}</p>
<details><summary>Numbers</summary>${numbers}</details>
</figure>`;
}

function timeSeriesBy(rows: Row[], timeKey: string, groupKey: string, valueKey: string): TimeSeries[] {
  const groups = new Map<string, [number, number][]>();
  for (const r of rows) {
    const name = String(r[groupKey] ?? 'unknown');
    const points = groups.get(name) ?? [];
    points.push([Date.parse(`${String(r[timeKey]).replace(' ', 'T')}Z`), num(r[valueKey])]);
    groups.set(name, points);
  }
  return [...groups].map(([name, points]) => ({ name, points }));
}

/** Zero-filled per-minute series, so stacked areas do not bridge minutes without events. */
function fillMinutes(series: TimeSeries[], stepMs: number): TimeSeries[] {
  const times = series.flatMap((s) => s.points.map((p) => p[0]));
  if (times.length === 0) return series;
  const first = Math.min(...times);
  const last = Math.max(...times);
  return series.map((s) => {
    const byTime = new Map(s.points);
    const points: [number, number][] = [];
    for (let t = first; t <= last; t += stepMs) points.push([t, byTime.get(t) ?? 0]);
    return { name: s.name, points };
  });
}

function flowSection(card: Scorecard): string {
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

function volumeSection(rows: Row[], dayStart: number): string {
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

function quarantineSection(rows: Row[], dayStart: number): string {
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

function freshnessSection(card: Scorecard, histogram: Row[]): string {
  const f = card.figures.freshness?.[0] ?? {};
  const labels = histogram.map((r) => String(r.label));
  // A percentile is marked on the bin it falls in.
  const binOf = (v: unknown) => {
    if (v === null || v === undefined) return undefined;
    const s = num(v);
    return histogram.find(
      (r) =>
        (r.lower_seconds === null || s >= num(r.lower_seconds)) &&
        (r.upper_seconds === null || s < num(r.upper_seconds)),
    )?.label as string | undefined;
  };
  // Percentiles in the same bin share one marker and one label.
  const byBin = new Map<string, string[]>();
  for (const p of ['p50', 'p95', 'p99'] as const) {
    const bin = binOf(f[`${p}_seconds`]);
    if (bin) byBin.set(bin, [...(byBin.get(bin) ?? []), `${p} ${seconds(f[`${p}_seconds`])}`]);
  }
  const markers = [...byBin].map(([category, labels]) => ({ category, label: labels.join(', ') }));
  const backfilled = num(f.backfilled);
  const series: CategorySeries[] = [
    { name: 'live events', values: histogram.map((r) => num(r.live_events)), stack: 'lag' },
  ];
  if (backfilled) {
    series.push({
      name: 'backfilled events',
      values: histogram.map((r) => num(r.backfilled_events)),
      stack: 'lag',
    });
  }
  const text = `<p>received_at - created_at over ${figure('freshness.events', f.events, count(f.events))} ${
    backfilled ? 'live ' : ''
  }curated events: p50 ${figure('freshness.p50_seconds', f.p50_seconds, seconds(f.p50_seconds))}, p95 ${figure(
    'freshness.p95_seconds',
    f.p95_seconds,
    seconds(f.p95_seconds),
  )}, p99 ${figure('freshness.p99_seconds', f.p99_seconds, seconds(f.p99_seconds))}; ${figure(
    'freshness.later_than_1h',
    f.later_than_1h,
    count(f.later_than_1h),
  )} later than an hour.</p>${
    backfilled
      ? `<p class="note">Backfill: ${figure('freshness.backfilled', f.backfilled, count(f.backfilled))} events were created before the live window (from ${escapeHtml(
          String(f.live_from),
        )}) and sent afterwards, as a replay of history; their lag (p50 ${seconds(
          f.backfilled_p50_seconds,
        )}, max ${seconds(f.backfilled_max_seconds)}) is their age when sent, not the pipeline's delay, and is shown apart, not judged.</p>`
      : ''
  }`;
  const alt = `Histogram of received minus created: ${histogram
    .filter((r) => num(r.live_events) + num(r.backfilled_events) > 0)
    .map((r) => `${String(r.label)} ${count(num(r.live_events) + num(r.backfilled_events))}`)
    .join(
      ', ',
    )}; p50 ${seconds(f.p50_seconds)}, p95 ${seconds(f.p95_seconds)}, p99 ${seconds(f.p99_seconds)}.`;
  return `<section id="freshness"><h2>Freshness</h2>${text}${chart(
    'chart-freshness',
    'Distribution of received_at - created_at, with p50, p95 and p99 marked',
    alt,
    renderSvg(categoryChart(labels, series, { yName: 'events', markers })),
    table(
      ['lag', 'live events', 'backfilled events'],
      histogram.map((r) => [String(r.label), count(r.live_events), count(r.backfilled_events)]),
    ),
  )}</section>`;
}

function enrichmentSection(card: Scorecard, rows: Row[]): string {
  const e = card.figures.enrichment?.[0] ?? {};
  const head = `<p>${figure('enrichment.lessons', e.lessons, count(e.lessons))} lesson events: ${figure(
    'enrichment.country_share',
    e.country_share,
    percent(e.country_share),
  )} with a country, ${figure('enrichment.subscription_share', e.subscription_share, percent(e.subscription_share))} with a subscription for their language.</p>`;
  if (rows.length === 0) return `<section id="enrichment"><h2>Enrichment coverage</h2>${head}</section>`;
  const hours = rows.map((r) => `${String(r.hour).padStart(2, '0')}h`);
  const range = (key: string) => {
    const lowest = rows.reduce((a, r) => (num(r[key]) < num(a[key]) ? r : a), rows[0]!);
    const highest = Math.max(...rows.map((r) => num(r[key])));
    return `from ${percent(lowest[key], 1)} (${String(lowest.hour).padStart(2, '0')}h) to ${percent(highest, 1)}`;
  };
  const alt = `Share of lesson events enriched in each of ${rows.length} hours: with a country ${range(
    'country_share',
  )}, with a subscription ${range('subscription_share')}.`;
  return `<section id="enrichment"><h2>Enrichment coverage by hour</h2>${head}${chart(
    'chart-enrichment',
    'Lesson events with a country and with a subscription, share by hour of event time',
    alt,
    renderSvg(
      categoryChart(
        hours,
        [
          { name: 'with country', values: rows.map((r) => num(r.country_share) * 100), line: true },
          { name: 'with subscription', values: rows.map((r) => num(r.subscription_share) * 100), line: true },
        ],
        { yName: '% of lessons', percent: true },
      ),
    ),
    table(
      ['hour', 'lessons', 'with country', 'share', 'with subscription', 'share'],
      rows.map((r, i) => [
        hours[i]!,
        count(r.lessons),
        count(r.with_country),
        percent(r.country_share),
        count(r.with_subscription),
        percent(r.subscription_share),
      ]),
    ),
  )}</section>`;
}

function duplicatesSection(card: Scorecard, rows: Row[]): string {
  const u = card.figures.uniqueness?.[0] ?? {};
  const head = `<p>${figure('uniqueness.ingest_duplicates', u.ingest_duplicates, count(u.ingest_duplicates))} producer resends stopped at ingest (${figure(
    'uniqueness.ingest_duplicate_rate',
    u.ingest_duplicate_rate,
    percent(u.ingest_duplicate_rate, 3),
  )} of received), ${figure('uniqueness.staging_duplicates', u.staging_duplicates, count(u.staging_duplicates))} lines redelivered in staging (${figure(
    'uniqueness.staging_duplicate_rate',
    u.staging_duplicate_rate,
    percent(u.staging_duplicate_rate, 3),
  )} of staged lines, dropped by compaction), ${figure(
    'uniqueness.curated_duplicate_uuids',
    u.curated_duplicate_uuids,
    count(u.curated_duplicate_uuids),
  )} duplicate uuids in curated.</p>`;
  const active = rows.filter((r) => num(r.ingest_duplicates) + num(r.staging_redelivered) > 0);
  if (active.length === 0) return `<section id="duplicates"><h2>Duplicates</h2>${head}</section>`;
  const hours = rows.map((r) => `${String(r.hour).padStart(2, '0')}h`);
  const busiest = active.reduce((a, r) =>
    num(r.ingest_duplicates) + num(r.staging_redelivered) >
    num(a.ingest_duplicates) + num(a.staging_redelivered)
      ? r
      : a,
  );
  const alt = `Duplicates in ${active.length} hours of the day: ${count(u.ingest_duplicates)} stopped at ingest and ${count(
    u.staging_duplicates,
  )} redelivered in staging; most at ${String(busiest.hour).padStart(
    2,
    '0',
  )}h (${count(busiest.ingest_duplicates)} and ${count(busiest.staging_redelivered)}).`;
  return `<section id="duplicates"><h2>Duplicates</h2>${head}${chart(
    'chart-duplicates',
    'Duplicates stopped at ingest (by arrival hour) and redelivered in staging (by event hour)',
    alt,
    renderSvg(
      categoryChart(hours, [
        { name: 'stopped at ingest', values: rows.map((r) => num(r.ingest_duplicates)) },
        { name: 'redelivered in staging', values: rows.map((r) => num(r.staging_redelivered)) },
      ]),
    ),
    table(
      ['hour', 'stopped at ingest', 'redelivered in staging'],
      active.map((r) => [
        `${String(r.hour).padStart(2, '0')}h`,
        count(r.ingest_duplicates),
        count(r.staging_redelivered),
      ]),
    ),
  )}</section>`;
}

function filesSection(rows: Row[]): string {
  const target = 128 * 1000 * 1000;
  const files = rows.reduce((a, r) => a + num(r.files), 0);
  const small = rows.reduce((a, r) => a + num(r.below_target), 0);
  const large = rows.reduce((a, r) => a + num(r.above_target), 0);
  const total = rows.reduce((a, r) => a + num(r.bytes), 0);
  const head = `<p>${count(files)} curated Parquet files, ${mib(total)} in all: ${count(small)} below compaction's 128 MB target and ${count(
    large,
  )} above 1 GB. ${
    small && total < target * files
      ? 'Files of a day smaller than the target are expected: a language with less than 128 MB of events in a day makes one small file.'
      : ''
  }</p>`;
  const alt = `Curated bytes by language: ${rows
    .map((r) => `${String(r.language)} ${count(r.files)} files, ${mib(r.bytes)}`)
    .join('; ')}; the dashed lines are the 128 MB and 1 GB bounds of the file target.`;
  return `<section id="files"><h2>Curated files and sizes by language</h2>${head}${chart(
    'chart-files',
    "Curated Parquet size per language (kB, log scale), against compaction's 128 MB - 1 GB file target",
    alt,
    renderSvg(
      // In kB: ECharts grows log-scale bars from 1, and a Parquet file is more than 1 kB.
      categoryChart(
        rows.map((r) => String(r.language)),
        [{ name: 'kB', values: rows.map((r) => Math.max(1, num(r.bytes) / 1e3)) }],
        { yName: 'kB', log: true, horizontal: [target / 1e3, 1e6] },
      ),
    ),
    table(
      ['language', 'files', 'rows', 'size', 'smallest file', 'largest file', 'below 128 MB', 'above 1 GB'],
      rows.map((r) => [
        String(r.language),
        count(r.files),
        count(r.rows),
        mib(r.bytes),
        mib(r.smallest_bytes),
        mib(r.largest_bytes),
        count(r.below_target),
        count(r.above_target),
      ]),
    ),
  )}</section>`;
}

function thresholdText(c: Check): string {
  return (
    `${c.direction === 'max' ? '<=' : '>='} ${formatFigure(c, c.threshold.warn)} warn, ` +
    (c.threshold.fail === null ? 'never fails' : `${formatFigure(c, c.threshold.fail)} fail`)
  );
}

/** Every check the scorecard holds, grouped by its dimension in the order they come. */
function scorecardSection(card: Scorecard): string {
  const dimensions = [...new Set(card.checks.map((c) => c.dimension as string))];
  const rows = dimensions
    .map((d) => {
      const checks = card.checks.filter((c) => c.dimension === d);
      return `<tr class="dimension"><th colspan="5" scope="rowgroup">${escapeHtml(d)}</th></tr>${checks
        .map(
          (c) =>
            `<tr data-check="${escapeHtml(c.id)}" data-status="${c.status}" data-figure="${
              c.figure === null ? '' : String(c.figure)
            }"><td class="status ${c.status}">${c.status.toUpperCase()}</td><td>${escapeHtml(c.id)}</td><td class="num">${
              c.figure === null ? '-' : escapeHtml(formatFigure(c, c.figure))
            }</td><td>${escapeHtml(thresholdText(c))}</td><td>${escapeHtml(c.detail)}</td></tr>`,
        )
        .join('')}`;
    })
    .join('');
  return `<section id="scorecard"><h2>Scorecard</h2><p>${card.status.toUpperCase()}: ${figure(
    'counts.pass',
    card.counts.pass,
    String(card.counts.pass),
  )} pass, ${figure('counts.warn', card.counts.warn, String(card.counts.warn))} warn, ${figure(
    'counts.fail',
    card.counts.fail,
    String(card.counts.fail),
  )} fail (as of ${escapeHtml(card.as_of)}; thresholds of <code>firelake quality</code>).</p><table class="scorecard"><thead><tr><th scope="col">status</th><th scope="col">check</th><th scope="col">figure</th><th scope="col">threshold</th><th scope="col">detail</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function engagementSection(report: DayReport): string {
  const en = report.engagement;
  if (!en) return '';
  const d = en.dailyActiveUsers;
  const t = en.total;
  const kpis = `<ul class="kpis">
<li><b>${figure('engagement.active_users', d.active_users, count(d.active_users))}</b> daily active users</li>
<li><b>${figure('engagement.learners', d.learners, count(d.learners))}</b> learners</li>
<li><b>${figure('engagement.players', d.players, count(d.players))}</b> players</li>
<li><b>${figure('engagement.sessions', t.sessions, count(t.sessions))}</b> sessions, ${seconds(t.avg_session_seconds)} on average</li>
<li><b>${figure('engagement.lessons_completed', t.lessons_completed, count(t.lessons_completed))}</b> lessons completed</li>
</ul>`;
  const rows = en.lessonsByLanguageSubscription;
  if (rows.length === 0) return `<section id="engagement"><h2>Engagement</h2>${kpis}</section>`;
  const languages = [...new Set(rows.map((r) => String(r.language)))];
  const types = [...new Set(rows.map((r) => String(r.subscription_type)))];
  const value = (l: string, s: string) =>
    num(rows.find((r) => r.language === l && r.subscription_type === s)?.lessons_completed);
  const alt = `Lessons completed by language and subscription type: ${rows
    .map((r) => `${String(r.language)} ${String(r.subscription_type)} ${count(r.lessons_completed)}`)
    .join(', ')}.`;
  return `<section id="engagement"><h2>Engagement</h2>${kpis}${chart(
    'chart-lessons',
    'Lessons completed by language, stacked by subscription type',
    alt,
    renderSvg(
      categoryChart(
        languages,
        types.map((s) => ({ name: s, values: languages.map((l) => value(l, s)), stack: 'type' })),
        { yName: 'lessons' },
      ),
    ),
    table(
      ['language', 'subscription type', 'lessons completed', 'learners'],
      rows.map((r) => [
        String(r.language),
        String(r.subscription_type),
        count(r.lessons_completed),
        count(r.learners),
      ]),
    ),
  )}</section>`;
}

const checkFigure = (card: Scorecard | undefined, id: string) =>
  card?.checks.find((c) => c.id === id)?.figure ?? null;

function trendsSection(data: ReportData): string {
  if (data.days.length < 2) return '';
  const labels = data.days.map((d) => d.day);
  const pick = (f: (d: DayReport) => number | null) => data.days.map((d) => (d.scorecard ? f(d) : null));
  const received = pick((d) => num(d.scorecard!.figures.reconciliation?.[0]?.received));
  const invalid = pick((d) => checkFigure(d.scorecard, 'validity.invalid_share'));
  const dupes = pick((d) => checkFigure(d.scorecard, 'uniqueness.ingest_duplicate_rate'));
  const p95 = pick((d) => checkFigure(d.scorecard, 'freshness.p95_seconds'));
  const country = pick((d) => checkFigure(d.scorecard, 'enrichment.country_share'));
  const subscription = pick((d) => checkFigure(d.scorecard, 'enrichment.subscription_share'));
  const dau = data.days.map((d) => (d.engagement ? num(d.engagement.dailyActiveUsers.active_users) : null));
  const sessions = data.days.map((d) => (d.engagement ? num(d.engagement.total.sessions) : null));
  const pct = (v: (number | null)[]) => v.map((x) => (x === null ? null : x * 100));
  const missing = data.days
    .filter((d) => d.problem)
    .map((d) => `${d.day} (${d.problem!.kind.replace('_', ' ')})`);
  const line = (name: string, values: (number | null)[]): CategorySeries => ({ name, values, line: true });
  const fmt = (v: number | null, f: (x: number) => string) => (v === null ? '-' : f(v));
  const numbers = table(
    [
      'day',
      'received',
      'invalid share',
      'ingest duplicate rate',
      'freshness p95',
      'country share',
      'subscription share',
      'DAU',
      'sessions',
    ],
    data.days.map((d, i) => [
      d.day,
      fmt(received[i]!, count),
      fmt(invalid[i]!, (x) => percent(x)),
      fmt(dupes[i]!, (x) => percent(x, 3)),
      fmt(p95[i]!, seconds),
      fmt(country[i]!, (x) => percent(x)),
      fmt(subscription[i]!, (x) => percent(x)),
      fmt(dau[i]!, count),
      fmt(sessions[i]!, count),
    ]),
  );
  const describe = (name: string, values: (number | null)[], f: (x: number) => string) =>
    `${name}: ${values.map((v, i) => `${labels[i]} ${fmt(v, f)}`).join(', ')}`;
  return `<section id="trends"><h2>Trends over ${data.days.length} days</h2>${
    missing.length ? `<p class="note">No figures for ${escapeHtml(missing.join(', '))}.</p>` : ''
  }${chart(
    'chart-trend-volume',
    'Records received per day, daily active users and sessions',
    `${describe('received', received, count)}; ${describe('DAU', dau, count)}; ${describe('sessions', sessions, count)}.`,
    renderSvg(
      categoryChart(labels, [
        { name: 'received', values: received },
        line('daily active users', dau),
        line('sessions', sessions),
      ]),
      280,
    ),
    numbers,
  )}${chart(
    'chart-trend-shares',
    'Invalid share, ingest duplicate rate and enrichment shares per day',
    `${describe('invalid share', invalid, (x) => percent(x))}; ${describe('duplicate rate', dupes, (x) => percent(x, 3))}; ${describe(
      'country share',
      country,
      (x) => percent(x),
    )}; ${describe('subscription share', subscription, (x) => percent(x))}.`,
    renderSvg(
      categoryChart(
        labels,
        [
          line('invalid share', pct(invalid)),
          line('ingest duplicate rate', pct(dupes)),
          line('country share', pct(country)),
          line('subscription share', pct(subscription)),
        ],
        { yName: '%', percent: true },
      ),
      280,
    ),
    numbers,
  )}${chart(
    'chart-trend-freshness',
    'Freshness p95 per day',
    `${describe('freshness p95', p95, seconds)}.`,
    renderSvg(categoryChart(labels, [line('p95 seconds', p95)], { yName: 's' }), 240),
    numbers,
  )}</section>`;
}

const CSS = `
:root { color-scheme: light; font-family: system-ui, sans-serif; color: #1d1d1f; }
body { max-width: 1000px; margin: 0 auto; padding: 1rem 1.25rem 3rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; margin-top: 0; }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: .3rem; color: #fff; font-weight: 600; }
.pass { background: #2e7d32; color: #fff; } .warn { background: #b26a00; color: #fff; } .fail { background: #c62828; color: #fff; }
.problem { border: 2px solid #c62828; background: #fdecea; padding: .8rem 1rem; border-radius: .4rem; }
.note { background: #f3f6fa; padding: .5rem .8rem; border-left: 4px solid #5b7db1; }
figure.chart { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
.svg svg { max-width: 100%; height: auto; display: block; }
.alt { color: #555; font-size: .9rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .2rem .45rem; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; } td.status { font-weight: 600; text-align: center; }
tr.dimension th { background: #f0f0f0; text-transform: capitalize; }
.equation { font-size: 1.05rem; } .figure { font-variant-numeric: tabular-nums; }
.kpis { display: flex; flex-wrap: wrap; gap: .6rem 1.6rem; padding: 0; list-style: none; }
.kpis b { font-size: 1.3rem; display: block; }
`;

/** The whole page. */
export function renderReport(data: ReportData): string {
  const main = data.days[data.days.length - 1]!;
  const card = main.scorecard;
  const status = card
    ? `<span class="badge ${card.status}" data-figure="status" data-value="${card.status}">${card.status.toUpperCase()}</span>`
    : '<span class="badge fail" data-figure="status" data-value="none">NO DATA</span>';
  const problem = main.problem
    ? `<p class="problem" id="problem" data-problem="${main.problem.kind}"><strong>${
        main.problem.kind === 'no_data' ? 'No data for this day.' : 'This day is not compacted.'
      }</strong> ${escapeHtml(main.problem.message)}</p>`
    : '';
  const sections: string[] = [];
  const dayStart = parseDay(data.day).startMs;
  if (card && main.series) {
    sections.push(
      flowSection(card),
      volumeSection(main.series.eventsPerMinute, dayStart),
      quarantineSection(main.series.quarantineOverTime, dayStart),
      freshnessSection(card, main.series.freshnessHistogram),
      enrichmentSection(card, main.series.enrichmentByHour),
      duplicatesSection(card, main.series.duplicatesByHour),
      filesSection(main.series.curatedFiles),
    );
  }
  if (card) sections.push(scorecardSection(card));
  sections.push(engagementSection(main), trendsSection(data));
  // `<` escaped so the JSON cannot close its script element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Firelake quality report ${escapeHtml(data.day)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Firelake quality report, ${escapeHtml(data.day)} ${status}</h1>
<p class="meta">Lake ${escapeHtml(data.lake)} · as of ${escapeHtml(data.as_of)} · generated ${escapeHtml(data.generated_at)}${
    data.live_from ? ` · live window from ${escapeHtml(data.live_from)}` : ''
  } · figures from the SQL of <code>firelake quality</code> and <code>firelake query</code></p>
</header>
<main>
${problem}
${sections.join('\n')}
</main>
<script type="application/json" id="firelake-report-data">${json}</script>
</body>
</html>
`;
}
