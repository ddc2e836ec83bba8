// The HTML report of a 1M-event day: how long `firelake report` takes to write it, how big it is
// (target: under 5 MB), and how long chromium takes to render it from file:// (target: under
// 2 s), beside the same page with its charts taken out, rendered in the same browser in the same
// run: the ratio is what the charts cost. The day is built as the quality bench builds its hour
// (bench/staged-stretch.ts), spread over 24 hours, and compacted with the SQL fixture.
//
//   npm run bench report               (FIRELAKE_BENCH_EVENTS=200000 for a quicker run)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { compactDay } from '../compaction/compact.js';
import { FolderStore } from '../lake/folder-store.js';
import { writeReport } from '../report/index.js';
import { chooseBrowser } from '../test/support/browser-path.js';
import { report } from './report.js';
import { buildStagedStretch } from './staged-stretch.js';

const DAY = '2026-11-20';
const EVENTS = Number(process.env.FIRELAKE_BENCH_EVENTS ?? 1_000_000);
const ROUNDS = 5;
// Debian's chromium, else the npm package's (test/support/browser-path.ts).
const CHROMIUM = chooseBrowser().path;

const root = mkdtempSync(join(tmpdir(), 'firelake-bench-report-'));
try {
  const store = new FolderStore(join(root, 'lake'));
  let t = performance.now();
  const built = await buildStagedStretch(store, {
    start: Date.parse(`${DAY}T00:00:00Z`),
    durationMs: 86_400_000,
    events: EVENTS,
  });
  await compactDay({ store, day: DAY });
  console.log(
    `day: ${built.events.toLocaleString('en-US')} events in ${built.objects} objects, built and compacted in ` +
      `${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const out = join(root, `${DAY}.html`);
  t = performance.now();
  const written = await writeReport({ store, day: DAY, out, asOf: new Date(`${DAY}T23:59:59Z`) });
  const writeSeconds = (performance.now() - t) / 1000;
  const html = readFileSync(out, 'utf8');
  // The baseline: the same page, same tables and data, without the chart SVG.
  const bare = join(root, 'bare.html');
  writeFileSync(bare, html.replace(/<svg[\s\S]*?<\/svg>/g, ''));
  const svgElements = (html.match(/<(path|rect|text|circle)\b/g) ?? []).length;

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  // Render time: navigation start to the first frame after load (layout and paint done), in a
  // fresh page each round, pages alternating so machine noise hits both alike; the median.
  const render = async (file: string) => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    await page.setOfflineMode(true);
    const started = performance.now();
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    // Two animation frames: the first after layout, the second after its paint.
    await page.evaluate(
      'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))',
    );
    const ms = performance.now() - started;
    await page.close();
    return ms;
  };
  await render(out);
  await render(bare);
  // A look at the page for a person (not timed).
  {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    await page.goto(`file://${out}`, { waitUntil: 'load' });
    mkdirSync('.bench', { recursive: true });
    await page.screenshot({ path: '.bench/report.png', fullPage: true });
    await page.close();
  }
  const reportMs: number[] = [];
  const bareMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    reportMs.push(await render(out));
    bareMs.push(await render(bare));
  }
  await browser.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const renderS = median(reportMs) / 1000;
  const bareS = median(bareMs) / 1000;

  report('report', {
    events: built.events,
    curated_rows: Number(written.data.days[0]?.scorecard?.figures.reconciliation?.[0]?.curated_rows ?? 0),
    write_report_seconds: writeSeconds,
    file_mb: written.bytes / 1e6,
    file_target_mb: 5,
    svg_elements: svgElements,
    render_seconds_median: renderS,
    render_seconds_rounds: reportMs.map((ms) => (ms / 1000).toFixed(3)).join(' '),
    render_target_seconds: 2,
    bare_page_render_seconds_median: bareS,
    render_over_bare_ratio: renderS / bareS,
  });
  if (written.bytes > 5e6 || renderS > 2) console.log('TARGET MISSED');
} finally {
  rmSync(root, { recursive: true, force: true });
}
