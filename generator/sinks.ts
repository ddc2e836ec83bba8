import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { FirelakeError } from '../lake/errors.js';

// Where generated records go: the Sink contract, and NDJSON to a file or stdout. The Firehose
// sink is in generator/firehose-sink.ts, its packing in generator/pack.ts.

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
