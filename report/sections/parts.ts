import type { Row } from '../../sql/runner.js';
import type { TimeSeries } from '../charts.js';

// The pieces every section of the report is built from: figures as text, escaped HTML, tables,
// and a chart with its text alternative and its numbers.

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const count = (v: unknown) => num(v).toLocaleString('en-US');
export const percent = (share: unknown, digits = 2) =>
  share === null || share === undefined ? '-' : `${(num(share) * 100).toFixed(digits)}%`;
export const seconds = (v: unknown) => (v === null || v === undefined ? '-' : `${num(v).toFixed(1)} s`);
export const mib = (bytes: unknown) => `${(num(bytes) / 2 ** 20).toFixed(num(bytes) < 2 ** 20 ? 3 : 1)} MiB`;

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A figure of the scorecard JSON, marked so a test (or a scraper) finds it and its raw value. */
export function figure(key: string, value: unknown, text: string): string {
  return `<span class="figure" data-figure="${escapeHtml(key)}" data-value="${escapeHtml(value === null || value === undefined ? '' : String(value))}">${escapeHtml(text)}</span>`;
}

export function table(headers: string[], rows: (string | number)[][], caption?: string): string {
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}<thead><tr>${headers
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A chart: title, the SVG with its text alternative, and its numbers in a table below. */
export function chart(id: string, title: string, alt: string, svg: string, numbers: string): string {
  return `<figure class="chart" id="${id}" data-chart="${id}">
<figcaption>${escapeHtml(title)}</figcaption>
<div class="svg" role="img" aria-label="${escapeHtml(alt)}">${svg}</div>
<p class="alt">${escapeHtml(alt)}</p>
<details><summary>Numbers</summary>${numbers}</details>
</figure>`;
}

export function timeSeriesBy(rows: Row[], timeKey: string, groupKey: string, valueKey: string): TimeSeries[] {
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
export function fillMinutes(series: TimeSeries[], stepMs: number): TimeSeries[] {
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
