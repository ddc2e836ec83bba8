import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

// After a run, what each group took (unit, integration, e2e): its files' time summed (they run
// side by side on three workers, so the sums exceed the run's wall time), their CPU (each worker
// and the processes a file started and reaped, test/setup-env.ts), and the span from its first
// file's start to its last file's end; beside each, its budget from docs/testing.md.

const GROUPS = ['unit', 'integration', 'e2e'] as const;
type Group = (typeof GROUPS)[number];
type Budget = { seconds: number; cpuSeconds: number };

/** The budget table of docs/testing.md: `| unit | 20 s | 30 s |`, time in files, then CPU. */
export function budgets(markdown: string): Partial<Record<Group, Budget>> {
  const out: Partial<Record<Group, Budget>> = {};
  for (const m of markdown.matchAll(/^\| (unit|integration|e2e) \| (\d+) s \| (\d+) s \|/gm)) {
    out[m[1] as Group] = { seconds: Number(m[2]), cpuSeconds: Number(m[3]) };
  }
  return out;
}

export default class GroupTimes implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const budget = budgets(readFileSync(join(import.meta.dirname, '..', 'docs', 'testing.md'), 'utf8'));
    const lines = ['', 'time by group (budgets: docs/testing.md):'];
    for (const group of GROUPS) {
      const files = modules.filter((m) => m.relativeModuleId.startsWith(`test/${group}/`));
      if (files.length === 0) continue;
      const costs = files.flatMap((m) => m.meta().cost ?? []);
      const seconds = files.reduce((n, m) => n + m.diagnostic().duration, 0) / 1000;
      const cpu = costs.reduce((n, c) => n + c.cpuSeconds, 0);
      const span =
        costs.length > 0
          ? (Math.max(...costs.map((c) => c.endMs)) - Math.min(...costs.map((c) => c.startMs))) / 1000
          : 0;
      const b = budget[group];
      const over = b && (seconds > b.seconds || cpu > b.cpuSeconds) ? '  OVER BUDGET' : '';
      lines.push(
        `  ${group.padEnd(12)} ${String(files.length).padStart(3)} files ${seconds.toFixed(1).padStart(6)} s in files` +
          ` (budget ${b?.seconds ?? '?'} s), ${cpu.toFixed(1).padStart(6)} CPU-s (budget ${b?.cpuSeconds ?? '?'} s),` +
          ` ${span.toFixed(1)} s first to last${over}`,
      );
    }
    console.log(lines.join('\n'));
  }
}
