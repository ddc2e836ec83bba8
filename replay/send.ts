import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { firehoseClient } from '../aws/firehose.js';
import { firehoseSink } from '../generator/firehose-sink.js';
import type { ReplayRecord } from './prepare.js';

// Step 4 of a replay: the records through the front door, Firehose's PutRecordBatch (the
// generator's Firehose sink: batches, per-record resends with backoff), chunk by chunk.

const DEFAULT_CHUNK_RECORDS = 1_000;

/** How a replay sends: the stream, the client, and when to stop. */
export interface SendOptions {
  streamName: string;
  client?: FirehoseClient;
  maxInFlight?: number;
  /** Aborting stops sending; what was sent is waited for and recorded (status interrupted). */
  signal?: AbortSignal;
  /** Records sent per chunk (default 1,000); an interruption stops after the chunk in flight. */
  chunkRecords?: number;
  /** Test seam: called after each chunk with the records sent so far. */
  onSent?: (count: number) => void;
}

/** Sends the records chunk by chunk until done or aborted; what was handed over is returned. */
export async function send(
  records: ReplayRecord[],
  options: SendOptions,
  log: (line: string) => void,
): Promise<{ count: number; undelivered: number; interrupted: boolean; records: ReplayRecord[] }> {
  const client = options.client ?? firehoseClient();
  const chunk = options.chunkRecords ?? DEFAULT_CHUNK_RECORDS;
  const handed: ReplayRecord[] = [];
  let delivered = 0;
  let undelivered = 0;
  try {
    // Chunk by chunk, each delivered (or given up) before the next: Ctrl-C stops within a chunk.
    for (let i = 0; i < records.length && !options.signal?.aborted; i += chunk) {
      const part = records.slice(i, i + chunk);
      // A replay is patient: throttled records are resent for minutes, not seconds.
      const sink = firehoseSink({
        client,
        streamName: options.streamName,
        maxInFlight: options.maxInFlight ?? 4,
        maxAttempts: 30,
      });
      for (const record of part) {
        const wait = sink.write(record.data);
        if (wait) await wait;
      }
      const counters = await sink.close();
      delivered += counters.delivered;
      undelivered += counters.undelivered;
      handed.push(...part);
      log(
        `sent ${delivered} of ${records.length}${undelivered ? `, ${undelivered} given up after retries` : ''}`,
      );
      options.onSent?.(handed.length);
    }
    return {
      count: delivered,
      undelivered,
      interrupted: handed.length < records.length,
      records: handed,
    };
  } finally {
    if (!options.client) client.destroy();
  }
}
