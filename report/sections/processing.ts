import type { Row } from '../../sql/runner.js';
import type { Scorecard } from '../../sql/scorecard.js';
import { type CategorySeries, categoryChart, renderSvg } from '../charts.js';
import { chart, count, escapeHtml, figure, mib, num, percent, seconds, table } from './parts.js';

// What the pipeline did to the day's events: how late they arrived, how many were enriched,
// the duplicates it dropped, and the curated files compaction wrote.

export function freshnessSection(card: Scorecard, histogram: Row[]): string {
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

export function enrichmentSection(card: Scorecard, rows: Row[]): string {
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

export function duplicatesSection(card: Scorecard, rows: Row[]): string {
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

export function filesSection(rows: Row[]): string {
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
