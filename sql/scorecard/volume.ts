import type { Row } from '../runner.js';
import { judge, num } from './checks.js';
import type { Bounds, Check, Thresholds } from './types.js';

// Volume: each due hour against a baseline, the median of the same hour on the history days (or,
// without history, the median of the day's own hours).

/** Volume: missing hours, drops and spikes against the history (or the day's own median). */
export function volumeChecks(rows: Row[], thresholds: Thresholds, bounds: (id: string) => Bounds): Check[] {
  const historyDays = num(rows[0]?.history_days);
  // Without history, the day is its own baseline: the median of its hours between the first
  // and the last with events (a pipeline that started at 10:00 is not "missing" 0-9).
  const inSpan = rows.filter((x) => x.within_day_span === true && x.due === true).map((x) => num(x.events));
  const sorted = [...inSpan].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const dayMedian = sorted.length
    ? sorted.length % 2
      ? sorted[Math.floor(mid)]!
      : (sorted[mid - 1]! + sorted[mid]!) / 2
    : 0;
  const missing: number[] = [];
  const drops: string[] = [];
  const spikes: string[] = [];
  for (const x of rows) {
    if (x.due !== true) continue;
    const hour = num(x.hour);
    const eventsInHour = num(x.events);
    const baseline = historyDays > 0 ? num(x.baseline) : x.within_day_span === true ? dayMedian : 0;
    if (baseline <= 0 || baseline < thresholds.volume.min_baseline) continue;
    const ratio = eventsInHour / baseline;
    const label = `${String(hour).padStart(2, '0')}h ${eventsInHour} vs ${baseline}`;
    if (eventsInHour === 0) missing.push(hour);
    else if (ratio < thresholds.volume.drop_below) drops.push(label);
    else if (ratio > thresholds.volume.spike_above) spikes.push(label);
  }
  const base =
    historyDays > 0 ? `against the median of ${historyDays} previous days` : "against the day's own median";
  const make = (id: string, figure: number, detail: string): Check => {
    const threshold = bounds(id);
    return {
      id,
      dimension: 'volume',
      figure,
      direction: 'max',
      threshold,
      status: judge(figure, threshold, 'max'),
      detail,
    };
  };
  return [
    make(
      'volume.missing_hours',
      missing.length,
      missing.length
        ? `hours with no events ${base}: ${missing.map((h) => `${String(h).padStart(2, '0')}h`).join(', ')}`
        : `every due hour has events (${base})`,
    ),
    make(
      'volume.drops',
      drops.length,
      drops.length
        ? `below ${thresholds.volume.drop_below}x ${base}: ${drops.join('; ')}`
        : `no hour below ${thresholds.volume.drop_below}x ${base}`,
    ),
    make(
      'volume.spikes',
      spikes.length,
      spikes.length
        ? `above ${thresholds.volume.spike_above}x ${base}: ${spikes.join('; ')}`
        : `no hour above ${thresholds.volume.spike_above}x ${base}`,
    ),
  ];
}
