import { setTimeout as sleep } from 'node:timers/promises';
import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { FIREHOSE_LIMITS } from '../lake/delivery.js';
import { DEFAULT_PACK_BYTES, MAX_EVENTS_PER_RECORD, packableObject } from './pack.js';
import { type Sink, type SinkCounters, SinkError } from './sinks.js';

// The generator's (and the replay's) way into Firehose: PutRecordBatch with packing, batching,
// per-record resends and a window of calls in flight.

export interface FirehoseSinkOptions {
  client: FirehoseClient;
  streamName: string;
  /** PutRecordBatch calls in flight at once (new batches and resends). Default 8. */
  maxInFlight?: number;
  /** Sends of one record before it is given up as undelivered. Default 8. */
  maxAttempts?: number;
  /** Full-jitter exponential backoff: a resend waits random(0, min(max, base * 2^attempt)). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A partly filled batch is sent after this long (keeps latency low at low rates). */
  lingerMs?: number;
  /** Source of jitter; Math.random by default (it changes timing, never content). */
  jitter?: () => number;
  /**
   * Pack events into Firehose records of at most this many bytes, newline-delimited, for the
   * stream's RecordDeAggregation processor (at most 500 a record). Default 5,120: Firehose
   * bills every record as at least 5 KB. 0: one event per record.
   */
  packBytes?: number;
}

/** One Firehose record and the number of events in it. */
interface OutRecord {
  data: Buffer;
  events: number;
  /** event_uuids of its events, when packed. */
  uuids?: string[];
}

/** Whole-call errors worth retrying; anything else (no such stream, bad credentials) stops the run. */
const RETRYABLE_ERRORS = new Set([
  'ServiceUnavailableException',
  'ThrottlingException',
  'InternalFailure',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

function retryable(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  if (e.name && RETRYABLE_ERRORS.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  // No HTTP answer at all: a network error (connection reset, refused, timed out).
  return true;
}

class FirehoseSink implements Sink {
  readonly kind = 'firehose' as const;
  private batch: OutRecord[] = [];
  /** The record being packed: lines and their total bytes with newlines. */
  private pack: Buffer[] = [];
  private packBytes = 0;
  private firehoseRecords = 0;
  private firehoseBytes = 0;
  /** event_uuids of the call being filled (its batch and the open pack). */
  private callUuids = new Set<string>();
  private packUuids: string[] = [];
  private batchBytes = 0;
  private linger: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly tasks = new Set<Promise<void>>();
  private delivered = 0;
  private undelivered = 0;
  private refused = 0;
  private retried = 0;
  private fatal: Error | undefined;

  private readonly maxInFlight: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly lingerMs: number;
  private readonly jitter: () => number;
  private readonly packLimit: number;

  constructor(private readonly options: FirehoseSinkOptions) {
    this.maxInFlight = options.maxInFlight ?? 8;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.lingerMs = options.lingerMs ?? 200;
    this.jitter = options.jitter ?? Math.random;
    this.packLimit = Math.min(options.packBytes ?? DEFAULT_PACK_BYTES, FIREHOSE_LIMITS.maxRecordBytes);
    if (!(this.maxInFlight >= 1)) throw new RangeError('maxInFlight must be at least 1');
    if (!(this.maxAttempts >= 1)) throw new RangeError('maxAttempts must be at least 1');
  }

  write(record: string | Buffer): Promise<void> | undefined {
    if (this.fatal) return Promise.reject(this.fatal);
    const data = typeof record === 'string' ? Buffer.from(record) : record;
    if (data.length > FIREHOSE_LIMITS.maxRecordBytes) {
      // Firehose would reject the whole call; refuse this record alone, counted.
      this.undelivered++;
      this.refused++;
      return undefined;
    }
    const object = this.packLimit > 0 && data.length < this.packLimit ? packableObject(record) : undefined;
    if (object) {
      // A resend goes in a later call than its original, as a retrying client's would: Firehose
      // gives every record of a call the same arrival time, by which the lake's dedup tells a
      // Firehose retry (staged again) from a resend (a duplicate tombstone). Packed, a call
      // holds thousands of events, so a resend of a recent event would often share it.
      const uuid = typeof object.event_uuid === 'string' ? object.event_uuid : undefined;
      let wait: Promise<void> | undefined;
      if (uuid !== undefined && this.callUuids.has(uuid)) {
        const packed = this.closePack();
        wait = this.dispatch() ?? packed;
      }
      // Newline-delimited: the record stays within the pack size with the separators.
      const grown = this.packBytes + (this.pack.length > 0 ? 1 : 0) + data.length;
      if (grown > this.packLimit || this.pack.length === MAX_EVENTS_PER_RECORD)
        wait = this.closePack() ?? wait;
      this.packBytes += (this.pack.length > 0 ? 1 : 0) + data.length;
      this.pack.push(data);
      if (uuid !== undefined) {
        this.packUuids.push(uuid);
        this.callUuids.add(uuid);
      }
      this.startLinger();
      return wait;
    }
    return this.add({ data, events: 1 });
  }

  /** Turns the lines packed so far into one record of the batch. */
  private closePack(): Promise<void> | undefined {
    if (this.pack.length === 0) return undefined;
    const parts: Buffer[] = [];
    for (const [i, line] of this.pack.entries()) {
      if (i > 0) parts.push(NEWLINE);
      parts.push(line);
    }
    const record = {
      data: Buffer.concat(parts, this.packBytes),
      events: this.pack.length,
      uuids: this.packUuids,
    };
    this.pack = [];
    this.packBytes = 0;
    this.packUuids = [];
    return this.add(record);
  }

  private add(record: OutRecord): Promise<void> | undefined {
    let wait: Promise<void> | undefined;
    if (
      this.batch.length === FIREHOSE_LIMITS.maxRecordsPerBatch ||
      this.batchBytes + record.data.length > FIREHOSE_LIMITS.maxBatchBytes
    ) {
      wait = this.dispatch();
    }
    this.batch.push(record);
    this.batchBytes += record.data.length;
    for (const uuid of record.uuids ?? []) this.callUuids.add(uuid);
    this.startLinger();
    return wait;
  }

  private startLinger(): void {
    if (!this.linger && this.lingerMs > 0) {
      this.linger = setTimeout(() => {
        this.linger = undefined;
        void this.closePack();
        void this.dispatch();
      }, this.lingerMs);
    }
  }

  /** Sends the current batch once a slot in the in-flight window is free. */
  private dispatch(): Promise<void> | undefined {
    if (this.linger) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    if (this.batch.length === 0) return undefined;
    const records = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.callUuids = new Set(this.packUuids);
    if (this.inFlight < this.maxInFlight) {
      this.start(records);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(() => {
        this.start(records);
        resolve();
      });
    });
  }

  private start(records: OutRecord[]): void {
    this.inFlight++;
    const task = this.deliver(records)
      .catch((error: unknown) => {
        this.fatal ??= new SinkError(
          `Firehose stream ${this.options.streamName}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      })
      .finally(() => {
        this.tasks.delete(task);
        this.inFlight--;
        this.waiting.shift()?.();
      });
    this.tasks.add(task);
  }

  /** Sends records, then resends only the ones that failed, with backoff, until done or given up. */
  private async deliver(records: OutRecord[]): Promise<void> {
    const events = (list: OutRecord[]) => list.reduce((n, r) => n + r.events, 0);
    let pending = records;
    for (let attempt = 1; ; attempt++) {
      let failed: OutRecord[];
      try {
        const out = await this.options.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.options.streamName,
            Records: pending.map((r) => ({ Data: r.data })),
          }),
        );
        const responses = out.RequestResponses ?? [];
        if (responses.length !== pending.length) {
          this.undelivered += events(pending);
          throw new SinkError(
            `PutRecordBatch answered ${responses.length} results for ${pending.length} records`,
          );
        }
        failed = pending.filter((_, i) => responses[i]!.ErrorCode !== undefined);
        for (const [i, r] of pending.entries()) {
          if (responses[i]!.ErrorCode !== undefined) continue;
          this.delivered += r.events;
          this.firehoseRecords++;
          this.firehoseBytes += r.data.length;
        }
      } catch (error) {
        if (error instanceof SinkError || !retryable(error)) {
          if (!(error instanceof SinkError)) this.undelivered += events(pending);
          throw error;
        }
        // The whole call failed after the SDK's own retries: every record is still unsent.
        failed = pending;
      }
      if (failed.length === 0) return;
      if (attempt >= this.maxAttempts || this.fatal) {
        this.undelivered += events(failed);
        return;
      }
      this.retried += events(failed);
      const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
      await sleep(this.jitter() * ceiling);
      pending = failed;
    }
  }

  async close(): Promise<SinkCounters> {
    const packed = this.closePack();
    if (packed) await packed;
    while (this.batch.length > 0 || this.tasks.size > 0 || this.waiting.length > 0) {
      if (this.fatal && this.batch.length > 0) {
        // The stream is unusable (missing, no access): what is left is undelivered, not sent.
        this.undelivered += this.batch.reduce((n, r) => n + r.events, 0);
        this.batch = [];
        this.batchBytes = 0;
      }
      const wait = this.dispatch();
      if (wait) await wait;
      if (this.tasks.size > 0) await Promise.race(this.tasks);
    }
    if (this.fatal) throw this.fatal;
    return this.counters();
  }

  counters(): SinkCounters {
    return {
      delivered: this.delivered,
      undelivered: this.undelivered,
      refused: this.refused,
      retried: this.retried,
      firehoseRecords: this.firehoseRecords,
      firehoseBytes: this.firehoseBytes,
    };
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * Firehose PutRecordBatch: batches of at most 500 records and 4 MiB, records over 1,000 KiB
 * refused (counted undelivered), failed records resent alone with full-jitter backoff, at most
 * `maxInFlight` calls at once. A resend after a lost answer can still duplicate a record:
 * Firehose itself is at-least-once, and the lake's dedup is built for it.
 */
export function firehoseSink(options: FirehoseSinkOptions): Sink {
  return new FirehoseSink(options);
}
