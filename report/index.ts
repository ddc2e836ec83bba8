import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Day } from '../lake/layout.js';
import { type CollectOptions, collectReport, type DayProblem, type ReportData } from './collect.js';
import { renderReport } from './html.js';

export { type CollectOptions, collectReport, type ReportData } from './collect.js';
export { renderReport } from './html.js';

/** Where `firelake report` writes by default: `<data-dir>/reports/<day>.html`. */
export function defaultReportPath(dataDir: string, day: Day): string {
  return join(dataDir, 'reports', `${day}.html`);
}

export interface WrittenReport {
  path: string;
  bytes: number;
  data: ReportData;
  /** Set when the report's day has nothing to draw: the page says so, the caller exits non-zero. */
  problem?: DayProblem;
}

/** Collects, renders and writes the report of one day (and the trend days before it). */
export async function writeReport(options: CollectOptions & { out: string }): Promise<WrittenReport> {
  const data = await collectReport(options);
  const html = renderReport(data);
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, html);
  return {
    path: options.out,
    bytes: Buffer.byteLength(html),
    data,
    problem: data.days[data.days.length - 1]!.problem,
  };
}
