import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { compactDay, createCuratedView } from '../../compaction/index.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { type Day, parsePartitions } from '../../lake/layout.js';
import { listAll } from '../../lake/store.js';
import { rng } from '../compaction-staging.js';
import { readLines } from './lake-read.js';
import { clientFor, startServe, validEvents } from './serve-process.js';

// The crash test of the local Firehose (test/e2e/local-chaos.test.ts, `npm run bench chaos`): a
// producer sends while `firelake serve` is killed with SIGKILL at random moments, each time
// restarted on the same data dir; a last start recovers and a SIGTERM flushes. Then every
// acknowledged record must be in staging, and after compaction no event_uuid may be there twice.

export interface ChaosOptions {
  dataDir: string;
  cycles: number;
  /** The kill comes uniformly between these times after serve is ready. */
  minUpMs: number;
  maxUpMs: number;
  seed: number;
  batchSize?: number;
  /** PutRecordBatch calls in flight at once. */
  inFlight?: number;
  /**
   * Events per Firehose record, newline-delimited (deaggregated before the transform): a
   * packed record's log entry must stay until every one of its events is in the lake.
   */
  pack?: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  cycles: number;
  attempted: number;
  acknowledged: number;
  /** Acknowledged, and missing from staging at the end. */
  lost: number;
  /** Records delivered again from the write-ahead log at the restarts. */
  recovered: number;
  stagedRows: number;
  /** Staged more than once (a redelivery of a record that had reached staging before a kill). */
  duplicatedInStaging: number;
  curatedRows: number;
  /** Acknowledged records missing from curated after compaction. */
  lostInCurated: number;
  duplicatedInCurated: number;
  finalExitCode: number | null;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  // Seeded: the kill times of a run are repeatable from its seed.
  const random = rng(options.seed);
  const batchSize = options.batchSize ?? 100;
  const acked = new Set<string>();
  let attempted = 0;
  let recovered = 0;
  const countRecovered = (stderr: string) => {
    for (const m of stderr.matchAll(/delivering (\d+) records that the write-ahead log/g))
      recovered += Number(m[1]);
  };

  for (let cycle = 1; cycle <= options.cycles; cycle++) {
    const serve = await startServe(options.dataDir);
    const client = clientFor(serve.env);
    let stop = false;
    let sent = 0;
    const producer = async (worker: number) => {
      for (let b = 0; !stop; b++) {
        // A generator seed of its own per batch: new events (new uuids) every time.
        const events = validEvents(
          batchSize,
          (options.seed * 1_000_003 + cycle * 100_000 + worker * 10_000 + b) % 2 ** 32,
        );
        attempted += events.length;
        sent += events.length;
        try {
          const pack = options.pack ?? 1;
          const records: (typeof events)[] = [];
          for (let i = 0; i < events.length; i += pack) records.push(events.slice(i, i + pack));
          const out = await client.send(
            new PutRecordBatchCommand({
              DeliveryStreamName: serve.env.FIRELAKE_STREAM,
              Records: records.map((r) => ({
                Data: Buffer.from(r.map((e) => e.data.toString()).join('\n')),
              })),
            }),
          );
          out.RequestResponses?.forEach((r, i) => {
            if (!r.ErrorCode) for (const e of records[i]!) acked.add(e.uuid);
          });
        } catch {
          return; // the endpoint died: this call was not acknowledged
        }
      }
    };
    const producers = Array.from({ length: options.inFlight ?? 2 }, (_, w) => producer(w));
    const upMs = options.minUpMs + random() * (options.maxUpMs - options.minUpMs);
    await new Promise((r) => setTimeout(r, upMs));
    serve.child.kill('SIGKILL');
    stop = true;
    await Promise.all(producers);
    client.destroy();
    await serve.exited;
    countRecovered(serve.stderr());
    log(
      `cycle ${cycle}: killed after ${(upMs / 1000).toFixed(1)} s, ${sent} records sent, ${acked.size} acknowledged so far`,
    );
  }

  // The last start delivers what the log kept; a SIGTERM flushes everything.
  const last = await startServe(options.dataDir);
  last.markStop();
  last.child.kill('SIGTERM');
  const { code } = await last.exited;
  countRecovered(last.stderr());

  const store = new FolderStore(join(options.dataDir, 'lake'));
  const staged = (await readLines<{ event_uuid: string }>(store, 'staging/')).map((l) => l.value.event_uuid);
  const stagedSet = new Set(staged);
  const lost = [...acked].filter((u) => !stagedSet.has(u)).length;

  const days = new Set<Day>();
  for (const o of await listAll(store, 'staging/')) {
    const p = parsePartitions(o.key);
    days.add(`${p.year}-${p.month}-${p.day}` as Day);
  }
  for (const day of days) await compactDay({ store, day, memoryLimitMiB: 512, threads: 1 });
  const db = await openDuckDb();
  const connection = db.connection;
  let curated: string[] = [];
  try {
    if ((await createCuratedView(connection, store, [...days])) > 0) {
      const rows = (await connection.runAndReadAll('SELECT event_uuid::VARCHAR AS u FROM curated_events'))
        .getRowObjectsJson()
        .map((r) => String(r.u));
      curated = rows;
    }
  } finally {
    db.close();
  }
  const curatedSet = new Set(curated);
  return {
    cycles: options.cycles,
    attempted,
    acknowledged: acked.size,
    lost,
    recovered,
    stagedRows: staged.length,
    duplicatedInStaging: staged.length - stagedSet.size,
    curatedRows: curated.length,
    lostInCurated: [...acked].filter((u) => !curatedSet.has(u)).length,
    duplicatedInCurated: curated.length - curatedSet.size,
    finalExitCode: code,
  };
}
