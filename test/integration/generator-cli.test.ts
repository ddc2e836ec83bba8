import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { failureOf } from '../../cli/errors.js';
import { generateCommand } from '../../cli/generate.js';
import type { GeneratorStats } from '../../generator/index.js';
import { cliArgv } from '../support/compiled.js';

// `firelake generate`: flag checks on the command in this process, then the real CLI in child
// processes (few: each start loads every command of the CLI).

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'firelake-generate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function generate(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...cliArgv(), 'generate', ...args],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, FIRELAKE_STREAM: 'unused' } },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The command in this process: commander throws instead of exiting, errors are captured. */
async function parseInProcess(args: string[]): Promise<string> {
  let stderr = '';
  generateCommand.exitOverride().configureOutput({
    writeErr: (text) => {
      stderr += text;
    },
    writeOut: () => undefined,
  });
  try {
    await generateCommand.parseAsync(args, { from: 'user' });
  } catch (error) {
    // Commander already wrote its own errors; the action's errors reach the CLI's handler.
    return error instanceof CommanderError ? stderr : failureOf(error, {}).stderr;
  }
  throw new Error(`accepted ${args.join(' ')}`);
}

describe('firelake generate', () => {
  it.each([
    [
      ['--rate', 'lots'],
      /option '--rate <rate>' argument 'lots' is invalid. Expected a rate such as 1000000\/h/,
    ],
    [
      ['--duration', '10 minutes'],
      /'--duration <duration>' argument '10 minutes' is invalid. Expected a duration/,
    ],
    [
      ['--duplicate-rate', '2'],
      /'--duplicate-rate <share>' argument '2' is invalid. Expected a share from 0 to 1/,
    ],
    [
      ['--spike', '5x'],
      /'--spike <spec>' argument '5x' is invalid. "5x" is not a spike: expected MULTIPLIERx@START\+LENGTH/,
    ],
    [['--seed', 'abc'], /'--seed <n>' argument 'abc' is invalid. Expected a whole number/],
    [['--bad-kinds', 'invalid_json,typo'], /Unknown bad kind typo; known: invalid_json,/],
    [
      ['--start', '2026-11-20'],
      /'--start <iso>' argument '2026-11-20' is invalid. Expected an ISO-8601 time with a zone/,
    ],
    [['--start', '2026-11-20T00:00:00Z', '--duration', '1m'], /--start needs --fast/],
    [['--fast'], /--fast needs --duration or --count/],
    [['--fast', '--count', '10', '--bad-rate', '0.6', '--conflict-rate', '0.6'], /add up to more than 1/],
    [['--fast', '--count', '10', '--late-rate', '0.9'], /late rate 0.9 is above/],
    [['--fast', '--count', '10', '--out', '-', '--json'], /--json prints a summary on stdout/],
    [['--fast', '--count', '10', '--out', 'x', '--stream', 's'], /--stream is for the Firehose sink/],
    [['--fast', '--count', '10', '--no-such-flag'], /unknown option '--no-such-flag'/],
  ])('refuses %j with a clear message', async (args, message) => {
    expect(await parseInProcess(args)).toMatch(message);
  });

  it.concurrent('exits non-zero on a bad flag, saying what is wrong', async () => {
    const run = await generate('--rate', 'lots');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/'--rate <rate>' argument 'lots' is invalid/);
    expect(run.stdout).toBe('');
  });

  it.concurrent('writes a simulated file, its stats and a JSON summary that agree', async () => {
    const out = join(dir, 'events.ndjson');
    const statsFile = join(dir, 'stats.json');
    const run = await generate(
      '--fast',
      '--start',
      '2026-11-20T00:00:00Z',
      '--duration',
      '30s',
      '--rate',
      '100/s',
      '--spike',
      '3x@10s+5s',
      '--bad-rate',
      '5%',
      '--duplicate-rate',
      '0.01',
      '--seed',
      '9',
      '--out',
      out,
      '--stats',
      statsFile,
      '--json',
    );
    expect(run.stderr).toMatch(/generate: 4,000 records in/);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as GeneratorStats & { records_per_second: number };
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as GeneratorStats;
    // 30 s at 100/s, plus 5 s at 3x: 2,500 + 1,500 records.
    expect(stats.records).toBe(4000);
    expect(readFileSync(out).toString('latin1').trimEnd().split('\n')).toHaveLength(4000);
    expect(summary).toMatchObject(stats);
    expect(summary.records_per_second).toBeGreaterThan(0);
    expect(stats.start).toBe('2026-11-20T00:00:00.000Z');
    expect(stats.bad).toBeGreaterThan(100);
  });

  it.concurrent('writes records to stdout with --out - and logs only to stderr', async () => {
    const run = await generate('--fast', '--count', '250', '--out', '-', '--seed', '5');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(250);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('event_uuid');
    expect(run.stderr).toMatch(/250 records/);
  });
});
