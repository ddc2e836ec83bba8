import type { CostEstimate } from './model.js';

// The calculator's output as Markdown tables: what `firelake cost` prints and the README and docs/cost.md show.

const usd = (x: number) =>
  `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });

function heading(e: CostEstimate): string {
  const t = e.traffic;
  const perHour = count(t.eventsPerSecond * 3600);
  const pack =
    t.pack === 'off'
      ? 'one event per Firehose record'
      : `packed into records of up to ${count(t.pack)} bytes (${e.eventsPerRecord} events per record)`;
  return [
    `Monthly cost at ${perHour} events/hour (${count(e.eventsPerMonth / 1e6)}M events a month), ${t.eventBytes}-byte events ${pack}, ` +
      `${(t.lateShare * 100).toLocaleString('en-US')}% late events, month ${t.months} of curated storage.`,
    `${e.region} list prices checked ${e.pricesChecked} (cost/prices.ts), no free tier. ` +
      `Firehose bills ${count(e.billedBytesPerEvent)} bytes per event.`,
  ].join('\n');
}

/** One configuration: every line with how it is counted. */
export function formatEstimate(e: CostEstimate): string {
  const rows = e.lines.map((l) => `| ${l.service} | ${l.item} | ${l.detail} | ${usd(l.monthly)} |`);
  return [
    heading(e),
    '',
    '| service | item | how it is counted | per month |',
    '|---|---|---|---:|',
    ...rows,
    `| **total** | | | **${usd(e.total)}** |`,
    `| **per million events** | | | **${usd(e.perMillionEvents)}** |`,
    ...e.warnings.map((w) => `\nWARNING: ${w}`),
  ].join('\n');
}

/** Several configurations side by side, line by line (the same traffic). */
export function formatComparison(estimates: { name: string; estimate: CostEstimate }[]): string {
  const first = estimates[0]!.estimate;
  const keys: string[] = [];
  for (const { estimate } of estimates) {
    for (const l of estimate.lines) {
      const key = `${l.service} | ${l.item}`;
      if (!keys.includes(key)) keys.push(key);
    }
  }
  const cell = (e: CostEstimate, key: string) => {
    const line = e.lines.find((l) => `${l.service} | ${l.item}` === key);
    return line ? usd(line.monthly) : '-';
  };
  return [
    heading(first),
    '',
    `| service | item | ${estimates.map((x) => x.name).join(' | ')} |`,
    `|---|---|${estimates.map(() => '---:').join('|')}|`,
    ...keys.map((key) => `| ${key} | ${estimates.map((x) => cell(x.estimate, key)).join(' | ')} |`),
    `| **total** | | ${estimates.map((x) => `**${usd(x.estimate.total)}**`).join(' | ')} |`,
    `| **per million events** | | ${estimates.map((x) => `**${usd(x.estimate.perMillionEvents)}**`).join(' | ')} |`,
    ...estimates.flatMap((x) => x.estimate.warnings.map((w) => `\nWARNING (${x.name}): ${w}`)),
  ].join('\n');
}
