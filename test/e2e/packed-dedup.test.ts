import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StagedEvent } from '../../events/types.js';
import { FolderStore } from '../../lake/folder-store.js';
import { readLines } from '../support/lake-read.js';
import { clientFor, startServe, validEvents } from '../support/serve-process.js';

// An app's own producer against `firelake serve` as a process: the AWS SDK v3, several
// PutRecordBatch calls in flight, events packed newline-delimited into ~5 KB records, and 1% of
// the events sent twice inside the same call (a producer that retried an event it had already
// queued). Every sub-record of a call shares its arrival time; the copies are a call apart from
// their originals, so some reach another transform invocation.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'firelake-packed-serve-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pack(events: readonly Buffer[], limit = 5_000): Buffer[] {
  const records: Buffer[] = [];
  let open: Buffer[] = [];
  let bytes = 0;
  for (const e of events) {
    if (open.length > 0 && bytes + 1 + e.length > limit) {
      records.push(Buffer.from(open.join('\n')));
      open = [];
      bytes = 0;
    }
    bytes += (open.length > 0 ? 1 : 0) + e.length;
    open.push(e);
  }
  if (open.length > 0) records.push(Buffer.from(open.join('\n')));
  return records;
}

describe('firelake serve with a packing producer', () => {
  it('stages every valid event exactly once when client copies are packed into the same calls, 8 calls in flight', async () => {
    const serve = await startServe(join(dir, 'data'));
    try {
      const events = validEvents(6_000, 41);
      const perCall = 500;
      const calls: Buffer[][] = [];
      for (let i = 0; i < events.length; i += perCall) {
        const own = events.slice(i, i + perCall).map((e) => e.data);
        calls.push(pack([...own, ...own.slice(0, 5)]));
      }
      const copies = calls.length * 5;
      const client = clientFor(serve.env);
      try {
        let next = 0;
        const sender = async () => {
          while (next < calls.length) {
            const records = calls[next++]!;
            const out = await client.send(
              new PutRecordBatchCommand({
                DeliveryStreamName: serve.env.FIRELAKE_STREAM,
                Records: records.map((Data) => ({ Data })),
              }),
            );
            expect(out.FailedPutCount).toBe(0);
          }
        };
        await Promise.all(Array.from({ length: 8 }, sender));
      } finally {
        client.destroy();
      }
      serve.markStop();
      serve.child.kill('SIGTERM');
      expect((await serve.exited).code).toBe(0);

      const lake = new FolderStore(join(dir, 'data', 'lake'));
      const counts = new Map<string, number>();
      for (const { value } of await readLines<StagedEvent>(lake, 'staging/')) {
        counts.set(value.event_uuid, (counts.get(value.event_uuid) ?? 0) + 1);
      }
      expect(counts.size).toBe(events.length);
      expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      const quarantined = await readLines<{ reason: string }>(lake, 'quarantine/');
      expect(quarantined.map((q) => q.value.reason)).toEqual(Array(copies).fill('duplicate'));
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }
  });
});
