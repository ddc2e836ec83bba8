import { type Check, formatFigure, type Scorecard } from '../../sql/scorecard.js';
import { escapeHtml, figure } from './parts.js';

// Every check of the scorecard, as a table grouped by dimension.

function thresholdText(c: Check): string {
  return (
    `${c.direction === 'max' ? '<=' : '>='} ${formatFigure(c, c.threshold.warn)} warn, ` +
    (c.threshold.fail === null ? 'never fails' : `${formatFigure(c, c.threshold.fail)} fail`)
  );
}

/** Every check the scorecard holds, grouped by its dimension in the order they come. */
export function scorecardSection(card: Scorecard): string {
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
