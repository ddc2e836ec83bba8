import { parseDay } from '../lake/layout.js';
import type { ReportData } from './collect.js';
import { scorecardSection } from './sections/checks.js';
import { flowSection, quarantineSection, volumeSection } from './sections/flow.js';
import { escapeHtml } from './sections/parts.js';
import {
  duplicatesSection,
  enrichmentSection,
  filesSection,
  freshnessSection,
} from './sections/processing.js';
import { engagementSection, trendsSection } from './sections/trends.js';

export { escapeHtml } from './sections/parts.js';

// The report as one HTML page: inline CSS, charts as inline SVG, every figure also as text (a
// table under each chart), and the collected data as JSON in the page for machines. No script
// runs and nothing is fetched, so it works from file:// with the network off. The sections are in
// report/sections/, the pieces they are built from in report/sections/parts.ts.

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
