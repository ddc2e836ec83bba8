import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REFUSING_S3 } from '../support/cli.js';
import { cliArgv } from '../support/compiled.js';

// Each cli/*.ts command module defines its command (options, parsers, help) from light modules
// and loads its machinery in its action: `--help`, an unknown command and a bad flag answer
// without DuckDB, the AWS SDK clients, CDK, the report's renderer or the schema compiler
// (docs/testing.md has the CPU it saves). A real process records what it loads
// (test/support/load-recorder.mjs).

const RECORDER = join(import.meta.dirname, '../support/load-recorder.mjs');
const HEAVY = /^(@duckdb\/node-api|aws-cdk-lib|@aws-sdk\/client-[\w-]+|echarts|ajv)$/;

const dir = mkdtempSync(join(tmpdir(), 'firelake-cli-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** Runs the CLI; its exit code, stderr and the npm packages it loaded. */
function loads(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; stderr: string; packages: string[] } {
  const record = join(dir, `run-${++runs}.txt`);
  const run = spawnSync(process.execPath, ['--import', RECORDER, ...cliArgv(), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env, NO_COLOR: '1', FIRELAKE_LOAD_RECORD: record },
  });
  const packages = [...new Set(readFileSync(record, 'utf8').split('\n').filter(Boolean))].sort();
  return { code: run.status, stderr: run.stderr, packages };
}

describe('loading the firelake command line', () => {
  it('lists every command with --help without loading DuckDB, the AWS SDK, CDK, echarts or ajv', () => {
    const help = loads(['--help']);
    expect(help.code).toBe(0);
    expect(help.packages).toContain('commander');
    expect(help.packages.filter((p) => HEAVY.test(p))).toEqual([]);
  });

  it('refuses a bad flag of a command without loading its machinery', () => {
    const bad = loads(['replay', '--lake', dir, '--date', '2026-13-01']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("option '--date <YYYY-MM-DD>' argument '2026-13-01' is invalid");
    expect(bad.packages.filter((p) => HEAVY.test(p))).toEqual([]);
  });

  it('loads DuckDB once a command runs on a folder lake, and no AWS SDK client', () => {
    const lake = join(dir, 'lake');
    mkdirSync(lake);
    const quality = loads(['quality', '--date', '2026-01-01', '--lake', lake]);
    expect(quality.stderr).toContain('NO_DATA');
    expect(quality.packages).toContain('@duckdb/node-api');
    expect(quality.packages.filter((p) => p.startsWith('@aws-sdk/client-'))).toEqual([]);
    // A dry run of replay reads and judges; the Firehose client loads only to send.
    const replay = loads(['replay', '--lake', lake, '--date', '2026-01-01', '--dry-run', '--json']);
    expect(replay.code).toBe(0);
    expect(replay.packages).toContain('ajv');
    expect(replay.packages.filter((p) => p.startsWith('@aws-sdk/client-'))).toEqual([]);
  });

  it('loads the S3 client, and only it, for a lake in a bucket', () => {
    // Nothing listens at the endpoint: the command fails, having loaded what an S3 lake needs.
    const s3 = loads(['quality', '--date', '2026-01-01', '--lake', REFUSING_S3.lake], REFUSING_S3.env);
    expect(s3.code).toBe(1);
    expect(s3.stderr).toContain('could not read s3://nobucket/');
    expect(s3.packages.filter((p) => p.startsWith('@aws-sdk/client-'))).toEqual(['@aws-sdk/client-s3']);
  });
});
