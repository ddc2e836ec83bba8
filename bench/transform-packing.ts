import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { firehoseSink, generateRecords } from '../generator/index.js';
import { billedBytes } from '../lake/delivery.js';
import { deaggregateJson } from '../local/deaggregate.js';

// What packing changes before the transform: Firehose records and billed bytes per event for the
// same generated events (the app's mix, 1% duplicates, 1% bad) one per record and packed, and
// the CPU of splitting a packed record (local/deaggregate.ts) beside JSON.parse of its events.
// The sink is the real one; its Firehose client is a STUB that accepts every record and keeps it.

export interface PackingFigures {
  events: number;
  firehoseRecords: number;
  recordsPerEvent: number;
  billedBytesPerEvent: number;
  deaggregateUsPerEvent?: number;
  parseUsPerEvent?: number;
}

async function put(total: number, packBytes: number): Promise<Buffer[]> {
  const records: Buffer[] = [];
  const stub = {
    send: async (command: { input: { Records: { Data: Uint8Array }[] } }) => {
      for (const r of command.input.Records) records.push(Buffer.from(r.Data));
      return { FailedPutCount: 0, RequestResponses: command.input.Records.map(() => ({ RecordId: 'stub' })) };
    },
  } as unknown as FirehoseClient;
  const sink = firehoseSink({ client: stub, streamName: 'bench', packBytes, lingerMs: 0 });
  for (const r of generateRecords({
    seed: 3,
    start: Date.now() - 3_600_000,
    maxRecords: total,
    duplicateRate: 0.01,
    badRate: 0.01,
  })) {
    const wait = sink.write(r.data);
    if (wait) await wait;
  }
  await sink.close();
  return records;
}

export async function packingFigures(total: number, packBytes: number): Promise<PackingFigures> {
  const records = await put(total, packBytes);
  const events = records.reduce(
    (n, r) => n + (deaggregateJson(r).ok ? (deaggregateJson(r) as { records: Buffer[] }).records.length : 1),
    0,
  );
  const billed = records.reduce((n, r) => n + billedBytes(r.length), 0);
  const figures: PackingFigures = {
    events,
    firehoseRecords: records.length,
    recordsPerEvent: records.length / events,
    billedBytesPerEvent: billed / events,
  };
  if (packBytes > 0) {
    // Median of 5 rounds each: split every record, vs JSON.parse of every event in it.
    const texts = records.map((r) => r.toString());
    const time = (f: () => void) => {
      const rounds: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = process.hrtime.bigint();
        f();
        rounds.push(Number(process.hrtime.bigint() - t) / 1000 / events);
      }
      return rounds.sort((a, b) => a - b)[2]!;
    };
    figures.deaggregateUsPerEvent = time(() => {
      for (const r of records) deaggregateJson(r);
    });
    figures.parseUsPerEvent = time(() => {
      for (const t of texts) {
        for (const line of t.split('\n')) {
          try {
            JSON.parse(line);
          } catch {}
        }
      }
    });
  }
  return figures;
}
