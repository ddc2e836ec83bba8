import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../../lake/folder-store.js';
import { PALETTE } from '../../report/charts.js';
import { formatFigure, type Scorecard } from '../../sql/scorecard.js';
import { launchBrowser, watchPage } from '../support/browser.js';
import { firelake } from '../support/cli.js';
import { fixtureDay } from '../support/fixture/events.js';
import { writeDay } from '../support/fixture/lake.js';

// `firelake report` as a person uses it: the CLI writes the page, chromium opens it from
// file:// with the network off, and what it shows is checked against `firelake quality --json`.

const DAY = '2026-11-20';
const AS_OF = '2026-11-21T00:00:00Z';
let dir: string;
let lake: string;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'firelake-report-'));
  lake = join(dir, 'lake');
  const store = new FolderStore(lake);
  const day = fixtureDay(DAY, {
    lateEvents: 3,
    stagingDuplicates: 4,
    duplicateTombstones: 5,
    schemaViolations: 2,
    invalidJson: 1,
    processingFailed: 1,
    missingSubscriptions: 3,
  });
  await writeDay(store, {
    day: DAY,
    stagedLines: day.stagedLines,
    quarantine: day.quarantine,
    failed: day.failed,
  });
  // The day before, for the trends; the day after, staged but never compacted.
  await writeDay(store, { day: '2026-11-19', stagedLines: fixtureDay('2026-11-19').stagedLines });
  await writeDay(store, {
    day: '2026-11-21',
    stagedLines: fixtureDay('2026-11-21').stagedLines,
    compact: false,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a file with the network off; returns the page and what it did. */
async function open(path: string) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  await page.setOfflineMode(true);
  const watch = watchPage(page);
  await page.goto(`file://${path}`, { waitUntil: 'load' });
  return { page, watch };
}

describe('firelake report', () => {
  it('draws every chart from file:// with no network, no errors, and the numbers of firelake quality --json', async () => {
    const out = join(dir, 'report.html');
    const run = firelake(
      'report',
      '--date',
      DAY,
      '--days',
      '3',
      '--lake',
      lake,
      '--out',
      out,
      '--as-of',
      AS_OF,
    );
    expect(run.stderr).not.toMatch(/firelake:/);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/report\.html$/);

    const { page, watch } = await open(out);
    try {
      // Every section of the report is there, each chart with a title and a text alternative.
      const charts = await page.$$eval('figure.chart', (figures) =>
        figures.map((f) => ({
          id: f.id,
          title: f.querySelector('figcaption')?.textContent ?? '',
          alt: f.querySelector('[role=img]')?.getAttribute('aria-label') ?? '',
        })),
      );
      expect(charts.map((c) => c.id)).toEqual([
        'chart-flow',
        'chart-volume',
        'chart-quarantine',
        'chart-freshness',
        'chart-enrichment',
        'chart-duplicates',
        'chart-files',
        'chart-lessons',
        'chart-trend-volume',
        'chart-trend-shares',
        'chart-trend-freshness',
      ]);
      for (const c of charts) {
        expect(c.title.length, c.id).toBeGreaterThan(10);
        expect(c.alt, c.id).toMatch(/\d/);
      }

      // Every chart has drawn marks: shapes of data, with a size on screen. ECharts tags bars,
      // Sankey nodes and links with ecmeta_ssr_type="chart"; lines and areas are found by their
      // series colour below the legend row (the legend's icons share the colours).
      const marks = await page.$$eval(
        'figure.chart svg',
        (svgs, palette) =>
          svgs.map((svg) => {
            const colours = new Set((palette as string[]).map((c) => c.toLowerCase()));
            const frame = svg.getBoundingClientRect();
            const scale = frame.height / svg.viewBox.baseVal.height;
            let drawn = 0;
            for (const el of svg.querySelectorAll('path, rect, circle, polygon, polyline')) {
              const rect = el.getBoundingClientRect();
              if (rect.width + rect.height <= 0) continue;
              const data = el.getAttribute('ecmeta_ssr_type') === 'chart';
              const coloured =
                colours.has((el.getAttribute('fill') ?? '').toLowerCase()) ||
                colours.has((el.getAttribute('stroke') ?? '').toLowerCase());
              if (data || (coloured && (rect.bottom - frame.top) / scale > 35)) drawn++;
            }
            return { id: svg.closest('figure')!.id, drawn };
          }),
        PALETTE,
      );
      for (const m of marks) expect(m.drawn, `${m.id} has no drawn marks`).toBeGreaterThan(0);

      // The numbers on the page are the scorecard's, check for check.
      const quality = firelake('quality', '--date', DAY, '--lake', lake, '--as-of', AS_OF, '--json');
      const card = JSON.parse(quality.stdout) as Scorecard;
      const rows = await page.$$eval('tr[data-check]', (trs) =>
        trs.map((tr) => ({
          id: tr.getAttribute('data-check'),
          status: tr.getAttribute('data-status'),
          figure: tr.getAttribute('data-figure'),
          shown: tr.querySelectorAll('td')[2]?.textContent,
        })),
      );
      expect(rows.map((r) => r.id)).toEqual(card.checks.map((c) => c.id));
      for (const [i, c] of card.checks.entries()) {
        expect(rows[i]!.status, c.id).toBe(c.status);
        expect(rows[i]!.figure, c.id).toBe(c.figure === null ? '' : String(c.figure));
        expect(rows[i]!.shown, c.id).toBe(c.figure === null ? '-' : formatFigure(c, c.figure));
      }
      const figures = Object.fromEntries(
        await page.$$eval('[data-figure]', (els) =>
          els.map((e) => [
            e.getAttribute('data-figure'),
            { value: e.getAttribute('data-value'), text: e.textContent },
          ]),
        ),
      ) as Record<string, { value: string; text: string }>;
      const r = card.figures.reconciliation![0]!;
      for (const key of ['received', 'staged_unique', 'quarantined', 'processing_failed', 'curated_rows']) {
        expect(figures[`reconciliation.${key}`]!.value, key).toBe(String(r[key]));
        expect(figures[`reconciliation.${key}`]!.text, key).toBe(Number(r[key]).toLocaleString('en-US'));
      }
      const f = card.figures.freshness![0]!;
      for (const p of ['p50', 'p95', 'p99']) {
        expect(figures[`freshness.${p}_seconds`]!.value).toBe(String(f[`${p}_seconds`]));
      }
      expect(figures['counts.fail']!.value).toBe(String(card.counts.fail));
      expect(figures.status!.value).toBe(card.status);
      expect(await page.$eval('#flow .equation', (e) => e.textContent)).toMatch(/holds/);

      // No request but the page itself, none failed, nothing on the console.
      expect(watch.consoleErrors).toEqual([]);
      expect(watch.failedRequests).toEqual([]);
      expect(watch.requests).toEqual([`file://${out}`]);

      mkdirSync('.test-output', { recursive: true });
      await page.screenshot({ path: `.test-output/report-${DAY}.png`, fullPage: true });
    } finally {
      await page.close();
    }
  }, 180_000);

  it('says in the page and the exit code that a day is not compacted, and draws no chart', async () => {
    const out = join(dir, 'not-compacted.html');
    const run = firelake('report', '--date', '2026-11-21', '--lake', lake, '--out', out, '--as-of', AS_OF);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not compacted.*firelake compact --date 2026-11-21/);
    const { page, watch } = await open(out);
    try {
      expect(await page.$eval('#problem', (e) => e.getAttribute('data-problem'))).toBe('not_compacted');
      expect(await page.$$eval('figure.chart', (f) => f.length)).toBe(0);
      // What staging holds is still accounted for, in the scorecard.
      expect(await page.$$eval('tr[data-check]', (t) => t.length)).toBeGreaterThan(0);
      expect(watch.consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('says in the page and the exit code that a day has no data', async () => {
    const out = join(dir, 'no-data.html');
    const run = firelake('report', '--date', '2026-11-25', '--lake', lake, '--out', out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no data for 2026-11-25/);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/data-problem="no_data"/);
    expect(html).toMatch(/No data for this day/);
    expect(html).not.toMatch(/<figure class="chart"/);
  });

  it('refuses a bad --days with a message and a non-zero exit', () => {
    const run = firelake('report', '--date', DAY, '--days', '0', '--lake', lake);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--days/);
  });
});
