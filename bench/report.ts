import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Prints a benchmark's figures as a table and writes them to .bench/<name>.json. */
export function report(name: string, figures: Record<string, number | string>): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) {
    const shown = typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : v;
    console.log(`${k.padEnd(width)}  ${shown}`);
  }
  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, at: new Date().toISOString(), ...figures }, null, 2)}\n`);
  console.log(`(written to ${file})`);
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
