import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StagedEvent } from '../../events/types.js';
import { FolderStore } from '../../lake/folder-store.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime.js';
import type { ReplayReport } from '../../replay/replay.js';
import { cliArgv } from '../support/compiled.js';
import { readLines } from '../support/lake-read.js';
import { FAST_DELIVERY } from '../support/replay.js';
import { game } from '../transform-fixtures.js';

// A replay stopped half way, with real signals on the real command: Ctrl-C (SIGINT) and a crash
// (SIGKILL). The rerun completes it, and every record is staged exactly once. The local Firehose
// throttles (a small backlog: "Slow down.", the replay resends), so sending takes seconds.

const dir = mkdtempSync(join(tmpdir(), 'firelake-replay-interrupt-'));
const store = new FolderStore(join(dir, 'lake'));
let pipeline: LocalPipeline;

beforeAll(async () => {
  pipeline = await startLocalPipeline({
    lake: store,
    inMemoryDynamo: true,
    port: 0,
    delivery: FAST_DELIVERY,
    maxBacklogBytes: 64 * 1024,
  });
});
afterAll(async () => {
  await pipeline?.close();
  rmSync(dir, { recursive: true, force: true });
});

function replay(file: string): ChildProcess & {
  result: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
} {
  const child = spawn(
    process.execPath,
    [
      ...cliArgv(),
      'replay',
      '--file',
      file,
      '--lake',
      store.root,
      '--json',
      '--no-compact',
      '--chunk',
      '100',
    ],
    {
      env: {
        ...process.env,
        ...pipeline.env,
        NO_COLOR: '1',
      },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const result = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    },
  );
  return Object.assign(child, { result });
}

/** Resolves once the command says it has sent some records. */
function whenSending(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const listener = (d: Buffer) => {
      if (/\[replay\] sent [1-9]\d* of/.test(String(d))) {
        child.stderr!.off('data', listener);
        resolve();
      }
    };
    child.stderr!.on('data', listener);
  });
}

async function stagedOnce(events: { event_uuid: string }[]): Promise<void> {
  await pipeline.flush();
  const wanted = new Set(events.map((e) => e.event_uuid));
  const staged = (await readLines<StagedEvent>(store, 'staging/')).filter((l) =>
    wanted.has(l.value.event_uuid),
  );
  expect(staged).toHaveLength(events.length);
  expect(new Set(staged.map((l) => l.value.event_uuid)).size).toBe(events.length);
}

function fileOf(name: string, n: number) {
  const events = Array.from({ length: n }, (_, i) => game(randomUUID(), Date.now() - 60_000 + i));
  const file = join(dir, name);
  writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return { events, file };
}

describe('an interrupted replay', () => {
  it('stops sending on Ctrl-C, reports what it sent, exits 130; the rerun stages the rest, nothing twice', async () => {
    const { events, file } = fileOf('ctrl-c.ndjson', 600);
    const first = replay(file);
    await whenSending(first);
    first.kill('SIGINT');
    const stopped = await first.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('SIGINT: no more records are sent');
    const report = JSON.parse(stopped.stdout) as ReplayReport;
    expect(report.status).toBe('interrupted');
    expect(report.sent).toBeGreaterThan(0);
    expect(report.sent).toBeLessThan(600);
    expect(report.outcome).toMatchObject({ staged: report.sent, pending: 0 });

    const rerun = await replay(file).result;
    expect(rerun.code, rerun.stderr).toBe(0);
    const completed = JSON.parse(rerun.stdout) as ReplayReport;
    expect(completed.outcome).toMatchObject({ staged: 600 - report.sent, already_present: report.sent });
    await stagedOnce(events);
  }, 150_000);

  it('is completed by a rerun after a crash (SIGKILL), nothing staged twice', async () => {
    const { events, file } = fileOf('crash.ndjson', 600);
    const first = replay(file);
    await whenSending(first);
    first.kill('SIGKILL');
    expect((await first.result).signal).toBe('SIGKILL');
    // What the killed run handed to Firehose is delivered meanwhile; the rerun finds it there.
    await pipeline.flush();
    // A rerun tells its outcomes from an earlier run's by arrival (replay/outcome.ts): not within a second.
    await sleep(1_500);

    const rerun = await replay(file).result;
    expect(rerun.code, rerun.stderr).toBe(0);
    const completed = JSON.parse(rerun.stdout) as ReplayReport;
    expect(completed.sent).toBe(600);
    expect(completed.outcome!.already_present).toBeGreaterThan(0);
    expect(completed.outcome!.staged + completed.outcome!.already_present).toBe(600);
    await stagedOnce(events);
  }, 150_000);
});
