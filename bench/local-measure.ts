import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GeneratorStats } from '../generator/index.js';
import { datasetOfKey } from '../lake/layout.js';
import type { DeliveredObject } from '../local/delivery-stream.js';
import { childrenCpuSeconds } from './report.js';

// The measuring parts of bench/local.bench.ts: the producer as a process of its own, rates and
// latencies from its samples and delivered objects.

/** `firelake generate --json` in a process of its own, as a user's app; its CPU from the kernel. */
export async function runProducer(
  args: string[],
  packBytes: number,
  env: NodeJS.ProcessEnv,
): Promise<{ stats: GeneratorStats & { elapsed_seconds: number }; cpuS: number; exitedAt: number }> {
  const cli = fileURLToPath(new URL('../bin/firelake.js', import.meta.url));
  const pack = packBytes === 0 ? 'off' : String(packBytes);
  const profile = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  const cpuBefore = childrenCpuSeconds();
  const child = spawn(process.execPath, [...profile, cli, 'generate', ...args, `--pack=${pack}`, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  let exitedAt = 0;
  child.once('exit', () => {
    exitedAt = Date.now();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  // Exit 1 with a summary: records given up after every retry, which the figures count.
  const summary = out.trim().split('\n').pop() ?? '';
  if (!(code === 0 || (code === 1 && summary.startsWith('{')))) {
    throw new Error(`the producer (firelake generate ${args.join(' ')}) failed (exit ${code})`);
  }
  return { stats: JSON.parse(summary), cpuS: childrenCpuSeconds() - cpuBefore, exitedAt };
}

/** The slope of a least-squares line through the points, per unit of x. */
export function slopePerSecond(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** Arrival at the endpoint to the staged object in the lake, per event, sorted. */
export function latenciesOf(list: DeliveredObject[]): number[] {
  return list
    .filter((o) => datasetOfKey(o.key) === 'staging')
    .flatMap((o) => o.arrivals.map((a) => o.writtenAt - a))
    .sort((a, b) => a - b);
}

/** The p-th percentile of sorted values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
