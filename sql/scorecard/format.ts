import { pct } from './checks.js';
import type { Check, Scorecard } from './types.js';

// The scorecard for people: one line per check.

/** The scorecard as a table for people. */
export function formatScorecard(card: Scorecard): string {
  const rows = card.checks.map((c) => [
    c.status.toUpperCase(),
    c.id,
    c.figure === null ? '-' : formatFigure(c, c.figure),
    `${c.direction === 'max' ? '<=' : '>='} ${formatFigure(c, c.threshold.warn)} warn, ` +
      (c.threshold.fail === null ? 'never fails' : `${formatFigure(c, c.threshold.fail)} fail`),
    c.detail,
  ]);
  const head = ['STATUS', 'CHECK', 'FIGURE', 'THRESHOLD', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  widths[4] = 0;
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `Firelake data quality, ${card.day}, ${card.lake} (as of ${card.as_of})`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `${card.status.toUpperCase()}: ${card.counts.pass} pass, ${card.counts.warn} warn, ${card.counts.fail} fail`,
  ].join('\n');
}

/** A check's figure as the table prints it (shares as percentages). */
export function formatFigure(c: Pick<Check, 'id' | 'dimension'>, value: number): string {
  const share =
    /_(share|rate)$/.test(c.id) || ['completeness', 'validity', 'vocabulary', 'bounds'].includes(c.dimension);
  if (share) return pct(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
