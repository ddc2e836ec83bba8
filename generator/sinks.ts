import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { FIREHOSE_LIMITS } from '../lake/delivery.js';
import { FirelakeError } from '../lake/errors.js';

/** Where generated records go. write() returns a promise only when the caller must wait. */
export interface Sink {
  readonly kind: 'firehose' | 'file' | 'stdout';
  write(record: string | Buffer): Promise<void> | undefined;
  /** Flushes everything, waits for it to be delivered (or given up), and releases resources. */
  close(): Promise<SinkCounters>;
  counters(): SinkCounters;
}

export interface SinkCounters {
  /** Records (events, one line each) accepted by the destination. */
  delivered: number;
  /** Records given up on after retries, or refused before sending (too large). */
  undelivered: number;
  /** Of the undelivered, those refused before sending: over Firehose's 1,000 KiB record limit. */
  refused: number;
  /** Record resends after a per-record or whole-call failure. */
  retried: number;
  /**
   * Firehose only: Firehose records accepted, and their bytes. With packing a record carries
   * several events (what Firehose bills is records, in 5 KB steps); without, one each.
   */
  firehoseRecords?: number;
  firehoseBytes?: number;
}

export class SinkError extends FirelakeError {
  static override readonly code: string = 'SINK_FAILED';
  override readonly name = 'SinkError';
}

/** Lines are encoded into buffers of this size; each full buffer is one write. */
const CHUNK_BYTES = 1 << 20;

class StreamSink implements Sink {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private delivered = 0;
  private buffered = 0;
  private error: Error | undefined;

  constructor(
    readonly kind: 'file' | 'stdout',
    private readonly out: Writable,
    private readonly owned: boolean,
  ) {
    out.on('error', (e) => {
      this.error ??= e;
    });
  }

  write(record: string | Buffer): Promise<void> | undefined {
    if (this.error) {
      return Promise.reject(new SinkError(`cannot write to ${this.kind}`, { cause: this.error }));
    }
    // Encoding each line straight into a shared buffer beats joining strings and encoding the
    // join (measured in bench/generator.bench.ts): no rope to flatten, no second copy.
    const room = this.chunk.length - this.used;
    let ok = true;
    if (typeof record === 'string' && record.length * 3 < room) {
      this.used += this.chunk.write(record, this.used);
    } else if (typeof record !== 'string' && record.length < room) {
      this.used += record.copy(this.chunk, this.used);
    } else {
      ok = this.pushChunk();
      const bytes = typeof record === 'string' ? Buffer.from(record) : record;
      if (bytes.length < this.chunk.length) this.used += bytes.copy(this.chunk, 0);
      else ok = this.out.write(bytes) && ok;
    }
    this.chunk[this.used++] = 0x0a;
    this.buffered++;
    if (this.chunk.length - this.used > 64 * 1024 && ok) return undefined;
    return this.flush();
  }

  /** Hands the filled part of the buffer to the stream; false when the stream asks to wait. */
  private pushChunk(): boolean {
    if (this.used === 0) return true;
    const ok = this.out.write(this.chunk.subarray(0, this.used));
    // The stream keeps a reference to what it was given: continue in a fresh buffer.
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    this.delivered += this.buffered;
    this.buffered = 0;
    return ok;
  }

  private flush(): Promise<void> | undefined {
    if (this.pushChunk() && !this.out.writableNeedDrain) return undefined;
    // Backpressure: wait for the stream to drain rather than buffer a whole day in memory.
    return this.drained();
  }

  /** Resolves on 'drain'; rejects when the stream fails or closes first (a reader went away). */
  private drained(): Promise<void> {
    // stdout reports EPIPE once and is never destroyed: an error already seen will not repeat.
    if (this.error)
      return Promise.reject(new SinkError(`cannot write to ${this.kind}`, { cause: this.error }));
    return new Promise((resolve, reject) => {
      const done = (error?: unknown) => {
        this.out.off('drain', onDrain);
        this.out.off('error', onError);
        this.out.off('close', onClose);
        if (error) reject(new SinkError(`cannot write to ${this.kind}`, { cause: error }));
        else resolve();
      };
      const onDrain = () => done();
      const onError = (e: Error) => done(e);
      const onClose = () => done(this.error ?? new Error('stream closed'));
      this.out.on('drain', onDrain);
      this.out.on('error', onError);
      this.out.on('close', onClose);
    });
  }

  async close(): Promise<SinkCounters> {
    const wait = this.flush();
    if (wait) await wait;
    if (this.owned) {
      this.out.end();
      await once(this.out, 'finish');
    } else if (this.out.writableNeedDrain) {
      await this.drained();
    }
    if (this.error) throw new SinkError(`cannot write to ${this.kind}`, { cause: this.error });
    return this.counters();
  }

  counters(): SinkCounters {
    return { delivered: this.delivered, undelivered: 0, refused: 0, retried: 0 };
  }
}

/** NDJSON to a file (created or truncated), in large buffered writes that respect backpressure. */
export function fileSink(path: string): Sink {
  return new StreamSink('file', createWriteStream(path, { highWaterMark: 4 * CHUNK_BYTES }), true);
}

/** NDJSON to stdout (left open at the end). */
export function stdoutSink(): Sink {
  return new StreamSink('stdout', process.stdout, false);
}

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

/** The default pack: Firehose's 5 KB billing step (5,120 bytes). */
export const DEFAULT_PACK_BYTES = 5 * 1024;
/** Firehose deaggregates at most 500 JSON sub-records per record (docs/firehose.md). */
const MAX_EVENTS_PER_RECORD = FIREHOSE_LIMITS.maxSubRecordsPerRecord;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether a line can share a record: one JSON object on one line, valid UTF-8. Anything else
 * (invalid JSON or UTF-8, a bare value) would not deaggregate cleanly and would take its
 * neighbours to quarantine with it (README "Packed records"), so it travels alone.
 */
export function packable(line: string | Buffer): boolean {
  return packableObject(line) !== undefined;
}

/** The line's JSON object when it can share a record (see packable), else undefined. */
function packableObject(line: string | Buffer): Record<string, unknown> | undefined {
  let text: string;
  if (typeof line === 'string') text = line;
  else {
    try {
      text = utf8.decode(line);
    } catch {
      return undefined;
    }
  }
  if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(text.length - 1) !== 0x7d || text.includes('\n')) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
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
