import { type ChildProcess, spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { delimiter, join } from 'node:path';
import { cpuSeconds } from './cpu.js';

// `npm test`: the type-check and the lint run beside the tests, not before them. The tests leave
// part of the two cores idle while they wait on the processes they started (a buffer interval, a
// signal's effect), and tsc's ~20 s of CPU fits there at a lower priority: the run ends ~15 s
// sooner than one step after the other (docs/testing.md). Each check's output is printed whole
// when it ends, a failure at once; the tests still run to their end, since stopping them half way
// would orphan the processes the e2e tests started in process groups of their own. The exit code
// is non-zero if any step failed. Arguments go to vitest (`npm test -- test/unit`). At the end,
// vitest prints each group's time (test/group-times.ts) and this the whole run's.

const started = performance.now();

const ROOT = join(import.meta.dirname, '..');
const env = { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` };

interface Step {
  name: string;
  child: ChildProcess;
  done: Promise<number>;
}

function step(name: string, command: string, args: string[], options: { live: boolean }): Step {
  const child = spawn(command, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', options.live ? 'inherit' : 'pipe', options.live ? 'inherit' : 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const done = new Promise<number>((resolve) => {
    child.once('error', (error) => {
      output += `${error.message}\n`;
      resolve(1);
    });
    child.once('close', (code, signal) => {
      const verdict = signal ? `stopped by ${signal}` : code === 0 ? 'ok' : 'FAILED';
      if (!options.live) process.stdout.write(`\n> ${name}: ${verdict}\n${output}`);
      resolve(code ?? 1);
    });
  });
  return { name, child, done };
}

const checks = [
  step('typecheck (tsc --noEmit)', 'tsc', ['--noEmit'], { live: false }),
  step('lint (biome check .)', 'biome', ['check', '.'], { live: false }),
];
// The checks yield the CPU to the tests: they only fill what the tests leave idle.
for (const c of checks) {
  try {
    if (c.child.pid) setPriority(c.child.pid, 10);
  } catch {
    // Already ended (its output says why): nothing to yield.
  }
}
const tests = step('tests (vitest run)', 'vitest', ['run', ...process.argv.slice(2)], { live: true });

// Ctrl-C reaches every step (one process group); wait for them to end rather than die first.
process.on('SIGINT', () => {});
const codes = await Promise.all([...checks, tests].map((s) => s.done));
console.log(
  `npm test: ${((performance.now() - started) / 1000).toFixed(1)} s, ${cpuSeconds().toFixed(1)} CPU-s ` +
    '(the checks, vitest and every process they started and reaped)',
);
process.exitCode = codes.some((c) => c !== 0) ? 1 : 0;
