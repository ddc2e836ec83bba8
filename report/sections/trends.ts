import type { Scorecard } from '../../sql/scorecard.js';
import { type CategorySeries, categoryChart, renderSvg } from '../charts.js';
import type { DayReport, ReportData } from '../collect.js';
import { chart, count, escapeHtml, figure, num, percent, seconds, table } from './parts.js';

// What the events say about the product (engagement) and how the day compares with the days
// before it (trends).

export function engagementSection(report: DayReport): string {
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

export function trendsSection(data: ReportData): string {
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
