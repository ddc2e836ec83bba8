import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeEntry, readSegment, SEGMENT_FILE, segmentFileName, syncDir } from './wal-format.js';

export { crc32, readSegment } from './wal-format.js';

// The local Firehose's write-ahead log (DIR/firehose/): Firehose's promise is that a record is
// durable once PutRecord(Batch) has answered for it, so every accepted record is appended here,
// as PutRecordBatch received it (before any deaggregation or transform), and the answer waits
// until the append is on disk. On start, whatever the log still holds is delivered again;
// dedup (transform/dedup.ts) makes the redelivery safe, because a record keeps its arrival time
// (its delivery key). A segment file is deleted once every record in it has reached the lake
// (an object in staging, quarantine or errors/ written, or the record dropped by the transform).
//
// Fsync policy ('fsync', the default): group commit. Appends made while a write is in flight
// are gathered and written with one writev and one fdatasync, and every PutRecordBatch answers
// only after the fdatasync that covers it: an acknowledged record survives a crash of the
// process (kill -9, OOM) and a power loss or kernel crash of the machine (as far as the disk
// honours flushes). With 'write' the answer waits for the write() only: the record is in the
// OS page cache, which survives a crash of the process but not of the machine. 'off' keeps no
// log (a crash loses what is buffered, up to the backlog limit). `npm run bench local` measures
// the three in one run.
//
// The file format is in wal-format.ts.

export type WalMode = 'fsync' | 'write' | 'off';
export const WAL_MODES: readonly WalMode[] = ['fsync', 'write', 'off'];

export interface WalOptions {
  dir: string;
  mode?: Exclude<WalMode, 'off'>;
  /** A segment takes no more appends past this size. */
  segmentBytes?: number;
  /** Nor past this age, so that a delivered segment can be deleted soon. */
  segmentMaxAgeMs?: number;
  log?: (line: string) => void;
}

export interface RecoveredRecord {
  data: Buffer;
  arrivalMs: number;
  /** The segment it is in: settle() it once the record is in the lake. */
  tag: number;
  /** Its place in that segment (0 for the first record appended to it). */
  ordinal: number;
}

/** Where one call's records went: their segment (the tag) and the place of the first in it. */
export interface Appended {
  tag: number;
  first: number;
}

export interface WalStats {
  segments: number;
  appendedRecords: number;
  appendedBytes: number;
  writes: number;
  syncs: number;
  /** Time spent in write + fdatasync, ms. */
  syncMs: number;
  deletedSegments: number;
}

/** What the delivery stream needs of a log (delivery-stream.ts). */
export interface DeliveryJournal {
  /**
   * Appends the accepted records of one call; returns the tag to settle each of them with, and
   * the place of the first in its segment (the records after it follow in order).
   */
  append(records: readonly Buffer[], arrivalMs: number): Appended;
  /** Resolves once everything appended so far is durable (per the mode). */
  commit(): Promise<void>;
  /** These records (one tag per record) reached the lake. */
  settle(tags: readonly number[]): void;
  /**
   * `count` more settles will come for `tag`: a logged record split into several before the
   * transform (multi-record deaggregation) is settled once per part.
   */
  retain(tag: number, count: number): void;
}

interface Segment {
  id: number;
  path: string;
  handle?: FileHandle;
  bytes: number;
  /** Records appended and not yet settled. */
  pending: number;
  /** Records ever appended: the next one's place. */
  appended: number;
  sealed: boolean;
  openedAt: number;
  /** Chunks appended, not yet handed to the writer. */
  unwritten: Buffer[];
}

export class WriteAheadLog implements DeliveryJournal {
  private readonly segments = new Map<number, Segment>();
  private current: Segment | undefined;
  private nextId: number;
  private readonly mode: Exclude<WalMode, 'off'>;
  private readonly segmentBytes: number;
  private readonly maxAgeMs: number;
  private readonly log: (line: string) => void;
  // Group commit: waiters of the appends not yet written, and the write in flight.
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly deleting = new Set<Promise<void>>();
  private readonly counters = {
    appendedRecords: 0,
    appendedBytes: 0,
    writes: 0,
    syncs: 0,
    syncMs: 0,
    deletedSegments: 0,
  };

  private constructor(
    readonly dir: string,
    options: WalOptions,
    firstId: number,
  ) {
    this.mode = options.mode ?? 'fsync';
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
    this.maxAgeMs = options.segmentMaxAgeMs ?? 10_000;
    this.log = options.log ?? (() => {});
    this.nextId = firstId;
  }

  /**
   * Opens the log in `dir` and reads what earlier runs left: those records are returned (oldest
   * first) for delivery, and their segments stay until they are settled.
   */
  static open(options: WalOptions): { wal: WriteAheadLog; recovered: RecoveredRecord[] } {
    mkdirSync(options.dir, { recursive: true });
    const files = readdirSync(options.dir)
      .filter((f) => SEGMENT_FILE.test(f))
      .sort();
    const lastId = files.length ? Number.parseInt(files.at(-1)!.slice(0, 16), 10) : 0;
    const wal = new WriteAheadLog(options.dir, options, lastId + 1);
    const recovered: RecoveredRecord[] = [];
    for (const file of files) {
      const id = Number.parseInt(file.slice(0, 16), 10);
      const path = join(options.dir, file);
      const { records, tornBytes } = readSegment(readFileSync(path));
      if (tornBytes > 0) {
        wal.log(
          `write-ahead log: ${file} ends with ${tornBytes} bytes of an unfinished append (never acknowledged)`,
        );
      }
      if (records.length === 0) {
        unlinkSync(path);
        continue;
      }
      const segment: Segment = {
        id,
        path,
        bytes: 0,
        pending: records.length,
        appended: records.length,
        sealed: true,
        openedAt: 0,
        unwritten: [],
      };
      wal.segments.set(id, segment);
      records.forEach((r, ordinal) => {
        recovered.push({ ...r, tag: id, ordinal });
      });
    }
    return { wal, recovered };
  }

  stats(): WalStats {
    return { ...this.counters, segments: this.segments.size };
  }

  append(records: readonly Buffer[], arrivalMs: number): Appended {
    if (this.failure) throw this.failure;
    const entry = encodeEntry(records, arrivalMs);

    const segment = this.segmentFor(entry.length);
    const first = segment.appended;
    segment.unwritten.push(entry);
    segment.bytes += entry.length;
    segment.pending += records.length;
    segment.appended += records.length;
    this.counters.appendedRecords += records.length;
    this.counters.appendedBytes += entry.length;
    return { tag: segment.id, first };
  }

  commit(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.kick();
    return done;
  }

  settle(tags: readonly number[]): void {
    for (const tag of tags) {
      const segment = this.segments.get(tag);
      if (segment) segment.pending--;
    }
    for (const tag of new Set(tags)) this.removeIfDone(tag);
    // A quiet producer leaves the current segment open: once delivered and old enough, it goes.
    const current = this.current;
    if (current && current.pending === 0 && Date.now() - current.openedAt >= this.maxAgeMs) {
      this.seal(current);
    }
  }

  retain(tag: number, count: number): void {
    const segment = this.segments.get(tag);
    if (segment) segment.pending += count;
  }

  /** Waits for the writes, seals the current segment, and deletes every settled one. */
  async close(): Promise<void> {
    if (!this.failure) await this.commit().catch(() => {});
    while (this.writing) await this.writing;
    if (this.current) this.seal(this.current);
    for (const segment of [...this.segments.values()]) {
      await segment.handle?.close();
      segment.handle = undefined;
      this.removeIfDone(segment.id);
    }
    await Promise.all(this.deleting);
    const left = [...this.segments.values()].reduce((n, s) => n + s.pending, 0);
    if (left > 0) {
      this.log(
        `write-ahead log: ${left} records did not reach the lake; they stay in ${this.dir} and are delivered on the next start`,
      );
    }
  }

  private segmentFor(bytes: number): Segment {
    const now = Date.now();
    const current = this.current;
    if (
      current &&
      (current.bytes + bytes <= this.segmentBytes || current.bytes === 0) &&
      now - current.openedAt < this.maxAgeMs
    ) {
      return current;
    }
    if (current) this.seal(current);
    const id = this.nextId++;
    const segment: Segment = {
      id,
      path: join(this.dir, segmentFileName(id)),
      bytes: 0,
      pending: 0,
      appended: 0,
      sealed: false,
      openedAt: now,
      unwritten: [],
    };
    this.segments.set(id, segment);
    this.current = segment;
    return segment;
  }

  private seal(segment: Segment): void {
    segment.sealed = true;
    if (this.current === segment) this.current = undefined;
    this.removeIfDone(segment.id);
  }

  private removeIfDone(id: number): void {
    const segment = this.segments.get(id);
    if (!segment?.sealed || segment.pending > 0 || segment.unwritten.length > 0) return;
    if (this.writing) {
      // The file may be in the write in flight: try again once it is done.
      this.writing.finally(() => this.removeIfDone(id)).catch(() => {});
      return;
    }
    this.segments.delete(id);
    const { handle, path } = segment;
    segment.handle = undefined;
    const deletion = (async () => {
      await handle?.close().catch(() => {});
      try {
        unlinkSync(path);
        this.counters.deletedSegments++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log(`write-ahead log: could not delete ${path}: ${(error as Error).message}`);
        }
      }
    })();
    this.deleting.add(deletion);
    void deletion.finally(() => this.deleting.delete(deletion));
  }

  /** Starts a write of everything appended, unless one is in flight (it starts the next). */
  private kick(): void {
    if (this.writing || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    const batch: [Segment, Buffer[]][] = [];
    for (const segment of this.segments.values()) {
      if (segment.unwritten.length === 0) continue;
      batch.push([segment, segment.unwritten]);
      segment.unwritten = [];
    }
    this.writing = this.write(batch).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (error: unknown) => {
        this.failure = new Error(`write-ahead log in ${this.dir} failed: ${(error as Error).message}`, {
          cause: error,
        });
        this.log(this.failure.message);
        for (const w of waiters) w.reject(this.failure);
      },
    );
    this.writing.finally(() => {
      this.writing = undefined;
      // A sealed segment whose records all settled while it was being written can go now.
      for (const [segment] of batch) if (segment.sealed) this.removeIfDone(segment.id);
      this.kick();
    });
  }

  private async write(batch: [Segment, Buffer[]][]): Promise<void> {
    const began = performance.now();
    for (const [segment, chunks] of batch) {
      if (!segment.handle) {
        segment.handle = await open(segment.path, 'a');
        // A new file's directory entry must be durable too, or the file may vanish on power loss.
        if (this.mode === 'fsync') await syncDir(this.dir);
      }
      await segment.handle.writev(chunks);
      this.counters.writes++;
      if (this.mode === 'fsync') {
        await segment.handle.datasync();
        this.counters.syncs++;
      }
      if (segment.sealed && segment.unwritten.length === 0) {
        await segment.handle.close();
        segment.handle = undefined;
      }
    }
    this.counters.syncMs += performance.now() - began;
  }
}
