import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../local/runtime.js';
import { readSegment, type WalOptions, WriteAheadLog } from '../../local/wal.js';
import { clientFor } from '../support/serve-process.js';

// The write-ahead log of the local Firehose on a real folder: what is committed comes back at
// the next open, a torn tail does not, and a segment goes once all its records reached the lake.

const root = mkdtempSync(join(tmpdir(), 'firelake-wal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A log left open stands for a process killed with kill -9. After the test, every log it opened
// is closed: an open segment's file handle, left to the garbage collector, closes with a Node
// warning, in whichever test file then shares this worker process (DEP0137: a future error).
const opened: WriteAheadLog[] = [];
function openLog(options: WalOptions): ReturnType<typeof WriteAheadLog.open> {
  const log = WriteAheadLog.open(options);
  opened.push(log.wal);
  return log;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((wal) => wal.close()));
});
let dirs = 0;
const newDir = () => join(root, `wal-${dirs++}`);
const buf = (s: string) => Buffer.from(s);

describe('write-ahead log', () => {
  it('gives back at the next open every committed record, with its arrival time, oldest first', async () => {
    const dir = newDir();
    const { wal, recovered } = openLog({ dir });
    expect(recovered).toEqual([]);
    wal.append([buf('a'), buf('bb')], 1_000);
    wal.append([buf('ccc')], 2_000);
    await wal.commit();
    // No close: as after a kill -9.
    const again = openLog({ dir });
    expect(again.recovered.map((r) => [r.data.toString(), r.arrivalMs])).toEqual([
      ['a', 1_000],
      ['bb', 1_000],
      ['ccc', 2_000],
    ]);
  });

  it('ignores a torn or corrupt tail: that append was never acknowledged', async () => {
    const dir = newDir();
    const { wal } = openLog({ dir });
    wal.append([buf('kept')], 1);
    await wal.commit();
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    const whole = readFileSync(path);
    appendFileSync(path, whole.subarray(0, whole.length - 2));
    expect(readSegment(readFileSync(path)).tornBytes).toBe(whole.length - 2);
    // A bit flipped in a whole entry fails its CRC.
    const flipped = Buffer.concat([whole, whole]);
    flipped[flipped.length - 1]! ^= 1;
    expect(readSegment(flipped).records.map((r) => r.data.toString())).toEqual(['kept']);
    expect(openLog({ dir }).recovered.map((r) => r.data.toString())).toEqual(['kept']);
  });

  it('gives each record the place in its segment it had when appended, so a redelivery names it as before', async () => {
    const dir = newDir();
    const { wal } = openLog({ dir });
    const one = wal.append([buf('a'), buf('b')], 1);
    const two = wal.append([buf('c')], 2);
    await wal.commit();
    expect([one.first, two.first]).toEqual([0, 2]);
    expect(openLog({ dir }).recovered.map((r) => [r.data.toString(), r.tag, r.ordinal])).toEqual([
      ['a', one.tag, 0],
      ['b', one.tag, 1],
      ['c', two.tag, 2],
    ]);
  });

  it('deletes a segment once every record in it is settled, and keeps one that is not', async () => {
    const dir = newDir();
    const { wal } = openLog({ dir, segmentMaxAgeMs: 0 });
    const first = wal.append([buf('1'), buf('2')], 1).tag;
    await wal.commit();
    const second = wal.append([buf('3')], 2).tag; // a new segment: the first is sealed
    await wal.commit();
    expect(second).not.toBe(first);
    expect(readdirSync(dir)).toHaveLength(2);
    wal.settle([first]);
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toHaveLength(2);
    wal.settle([first]);
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toHaveLength(1);
    await wal.close(); // the record of the second segment is not settled: it stays
    expect(openLog({ dir }).recovered.map((r) => r.data.toString())).toEqual(['3']);
  });

  it('deletes the current segment once it is delivered and old, when no append comes to seal it', async () => {
    const dir = newDir();
    const { wal } = openLog({ dir, segmentMaxAgeMs: 20 });
    const tag = wal.append([buf('quiet')], 1).tag;
    await wal.commit();
    await new Promise((r) => setTimeout(r, 30));
    wal.settle([tag]);
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps a segment until every part of a record split in parts is settled', async () => {
    const dir = newDir();
    const { wal } = openLog({ dir, segmentMaxAgeMs: 0 });
    const tag = wal.append([buf('a\nb\nc')], 1).tag;
    await wal.commit();
    wal.append([buf('next')], 2); // seals the first segment
    await wal.commit();
    wal.retain(tag, 2); // deaggregated into three records
    wal.settle([tag, tag]);
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toHaveLength(2);
    wal.settle([tag]);
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('settles recovered records into deleting their old segments', async () => {
    const dir = newDir();
    const { wal } = openLog({ dir });
    wal.append([buf('x'), buf('y')], 5);
    await wal.commit();
    const reopened = openLog({ dir });
    reopened.wal.settle(reopened.recovered.map((r) => r.tag));
    await reopened.wal.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('groups the appends made while a write is in flight into one write', async () => {
    const dir = newDir();
    const { wal } = openLog({ dir });
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      wal.append([buf(`r${i}`)], i);
      commits.push(wal.commit());
    }
    await Promise.all(commits);
    expect(wal.stats().syncs).toBeLessThanOrEqual(2);
    expect(wal.stats().appendedRecords).toBe(20);
    writeFileSync(join(dir, 'unrelated.txt'), 'not a segment');
    expect(openLog({ dir }).recovered).toHaveLength(20);
  });

  it('makes PutRecordBatch answer ServiceUnavailableException, acknowledging nothing, when the log cannot be written', async () => {
    const dataDir = newDir();
    const pipeline = await startLocalPipeline({ dataDir, inMemoryDynamo: true, wal: 'fsync', port: 0 });
    const client = clientFor(pipeline.env);
    try {
      rmSync(join(dataDir, 'firehose'), { recursive: true });
      const put = () =>
        client
          .send(
            new PutRecordBatchCommand({
              DeliveryStreamName: pipeline.streamName,
              Records: [{ Data: buf('{}') }],
            }),
          )
          .then(
            () => undefined,
            (e: Error) => e,
          );
      const error = await put();
      expect(error?.name).toBe('ServiceUnavailableException');
      expect(error?.message).toMatch(/could not log the records durably: write-ahead log in .* failed/);
      // And so for every later call: the log is broken, nothing is taken without it.
      const again = await put();
      expect(again?.name).toBe('ServiceUnavailableException');
    } finally {
      client.destroy();
      await pipeline.close();
    }
  });
});
