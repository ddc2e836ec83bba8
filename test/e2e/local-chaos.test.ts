import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runChaos } from '../support/chaos.js';

// Firehose's promise, kept by the local one: a record is durable once PutRecordBatch answered
// for it. serve is killed with SIGKILL at random moments while a producer sends, and restarted
// on the same data dir each time (test/support/chaos.ts).

const root = mkdtempSync(join(tmpdir(), 'firelake-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('firelake serve under kill -9', () => {
  it('loses no acknowledged record over several kills and restarts, and curated holds each event once', async () => {
    const dataDir = join(root, 'data');
    const seed = Number(process.env.FIRELAKE_CHAOS_SEED ?? Date.now() % 100_000);
    const result = await runChaos({
      dataDir,
      cycles: 3,
      minUpMs: 1_500,
      maxUpMs: 4_000,
      seed,
      inFlight: 1,
      // Packed, as producers send by default: one logged record is several events.
      pack: 10,
      log: (line) => console.error(`chaos (seed ${seed}): ${line}`),
    });
    console.error(`chaos (seed ${seed}): ${JSON.stringify(result)}`);
    expect(result.finalExitCode).toBe(0);
    expect(result.acknowledged).toBeGreaterThan(0);
    expect(result.lost).toBe(0);
    expect(result.lostInCurated).toBe(0);
    expect(result.duplicatedInCurated).toBe(0);
    // Delivered after the last stop, so the log is empty.
    expect(readdirSync(join(dataDir, 'firehose'))).toEqual([]);
    // Real processes on a shared machine: each restart redelivers what the log holds.
  }, 240_000);
});
