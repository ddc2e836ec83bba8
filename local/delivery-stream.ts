import { billedBytes, type DeliveryStreamConfig } from '../lake/delivery.js';
import { DEFAULT_REGION, DEFAULT_TRANSFORM_FUNCTION_NAME } from '../lake/settings.js';
import { ProcessorBuffer } from './delivery/buffer.js';
import { checkErrorPrefix, type Failure, failedRecordLine } from './delivery/failed-record.js';
import { invoke, invokeWithRetries } from './delivery/invoke.js';
import { type Partition, PartitionBuffers, partitionKeyOf } from './delivery/partition.js';
import { type Backlog, type Batch, type InputRecord, MiB, RecordIds } from './delivery/records.js';
import type { ResultRecord } from './delivery/response.js';
import { SubRecords } from './delivery/sub-records.js';
import {
  type DeliveryStreamOptions,
  type DeliveryStreamStats,
  type PutResult,
  zeroCounts,
} from './delivery/types.js';
import { writeObject } from './delivery/write.js';
import type { Appended } from './wal.js';

// A Firehose delivery stream (Direct PUT -> Lambda processor -> S3 with dynamic partitioning),
// behaving as docs/firehose.md describes, configured by the same DeliveryStreamConfig as the CDK
// stack. Records are buffered for the processor (size, interval, the 6 MB invocation limit),
// the transform is invoked with a genuine FirehoseTransformationEvent, its answer is checked
// record by record, failed invocations are retried and then written to the error prefix, and
// every Ok record lands in its partition's buffer, flushed by size and interval as GZIP objects
// named as Firehose names them. Each of those steps is a module of delivery/; this class takes
// records, keeps the counts and routes records between the steps.

export { checkResponse } from './delivery/response.js';

export type {
  DeliveredObject,
  DeliveryStreamOptions,
  DeliveryStreamStats,
  PutResult,
  TransformFunction,
} from './delivery/types.js';

export class DeliveryStream {
  readonly name: string;
  readonly arn: string;
  readonly lambdaArn: string;
  private readonly region: string;
  private readonly maxBacklogBytes: number;
  private readonly maxConcurrent: number;
  private readonly maxActivePartitions: number;
  private readonly version: number;
  private readonly log: (line: string) => void;

  private readonly buffer: ProcessorBuffer;
  private readonly queue: Batch[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly partitions: PartitionBuffers;
  private readonly recordIds = new RecordIds();
  private closed = false;
  private readonly counters = zeroCounts();
  private readonly subRecords: SubRecords;
  private readonly backlog: Backlog = { bytes: 0 };

  constructor(private readonly options: DeliveryStreamOptions) {
    const { config } = options;
    this.name = config.streamName;
    this.region = options.region ?? DEFAULT_REGION;
    const account = options.accountId ?? '000000000000';
    this.arn = `arn:aws:firehose:${this.region}:${account}:deliverystream/${this.name}`;
    this.lambdaArn =
      options.lambdaArn ??
      `arn:aws:lambda:${this.region}:${account}:function:${DEFAULT_TRANSFORM_FUNCTION_NAME}`;
    this.maxBacklogBytes = options.maxBacklogBytes ?? 256 * MiB;
    this.maxConcurrent = options.maxConcurrentInvocations ?? 4;
    this.maxActivePartitions = options.maxActivePartitions ?? 500;
    this.version = options.version ?? 1;
    this.log = options.log ?? (() => {});
    checkErrorPrefix(config.errorPrefix);
    this.subRecords = new SubRecords(config, this.counters, this.log);
    this.buffer = new ProcessorBuffer(config.processor, (batch) => {
      this.queue.push(batch);
      this.pump();
    });
    this.partitions = new PartitionBuffers(
      config.buffering,
      this.backlog,
      (partition) => this.write(partition),
      (partition, error) => {
        this.counters.deliveryFailures++;
        this.log(
          `delivery stream ${this.name}: LOST ${partition.arrivals.length} records of ${partition.key}: ${error.message}`,
        );
      },
    );
  }

  stats(): DeliveryStreamStats {
    return { ...this.counters, backlogBytes: this.backlog.bytes, activePartitions: this.partitions.size };
  }

  /**
   * Accepts records as PutRecordBatch does: each gets a RecordId, or a per-record
   * ServiceUnavailableException when the backlog is full (the caller resends only those).
   */
  put(records: readonly Uint8Array[]): PutResult[] {
    const now = Date.now();
    const accepted: InputRecord[] = [];
    // Bytes this call has taken so far: they count toward the backlog before they reach it.
    let taking = 0;
    const results = records.map((bytes): PutResult => {
      if (this.closed) {
        return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      }
      if (this.backlog.bytes + taking + bytes.length > this.maxBacklogBytes) {
        this.counters.throttledRecords++;
        return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      }
      const recordId = this.recordIds.next();
      this.counters.incomingRecords++;
      this.counters.incomingBytes += bytes.length;
      this.counters.billedBytes += billedBytes(bytes.length);
      const data = Buffer.from(bytes);
      taking += data.length;
      accepted.push({ recordId, data, arrivalMs: now });
      return { RecordId: recordId };
    });
    if (accepted.length === 0) return results;
    // Logged before the transform can see them, so a record is settled only after its append.
    let appended: Appended | undefined;
    try {
      appended = this.options.journal?.append(
        accepted.map((r) => r.data),
        now,
      );
    } catch (error) {
      // Not taken: the caller answers an error for the whole call.
      for (const r of accepted) {
        this.counters.incomingRecords--;
        this.counters.incomingBytes -= r.data.length;
        this.counters.billedBytes -= billedBytes(r.data.length);
      }
      throw error;
    }
    accepted.forEach((record, i) => {
      this.toProcessor(record, appended && { tag: appended.tag, ordinal: appended.first + i });
    });
    return results;
  }

  /**
   * Deaggregation comes before the processor (docs/firehose.md); each sub-record is a record of its
   * own for the transform, with the arrival time of the record it came in. The log holds the
   * record as it was put, so its entry is settled once per part.
   *
   * The recordIds the transform sees name one sub-record of one stored record, the same on every
   * delivery of it: the transform's dedup tells a Firehose retry from a client's copy by them
   * (transform/dedup.ts), and sub-records of one call share their arrival time. An invocation
   * retried in this process carries the same records; a logged record redelivered by a later run
   * gets the id it had, made from its place in the log (arrival, segment, place in the segment,
   * sub-record), as AWS's look like the stored record's sequence number and a six-digit suffix
   * (docs/firehose.md). Without a log nothing is redelivered: a record that stays whole keeps
   * its RecordId, sub-records get ids of their own.
   */
  private toProcessor(record: InputRecord, logged: { tag: number; ordinal: number } | undefined): void {
    const parts = this.subRecords.of(record.data);
    if (logged && parts.length > 1) this.options.journal?.retain(logged.tag, parts.length - 1);
    const base = logged && loggedRecordId(record.arrivalMs, logged.tag, logged.ordinal);
    parts.forEach((data, sub) => {
      const recordId = base
        ? `${base}${String(sub).padStart(6, '0')}`
        : parts.length === 1
          ? record.recordId
          : this.recordIds.next();
      this.counters.processorRecords++;
      this.backlog.bytes += data.length;
      this.buffer.add({ recordId, data, arrivalMs: record.arrivalMs, tag: logged?.tag });
    });
  }

  /** Resolves once the records put so far are in the write-ahead log (at once without one). */
  committed(): Promise<void> {
    return this.options.journal?.commit() ?? Promise.resolve();
  }

  /**
   * Records an earlier run acknowledged and logged but did not deliver: taken whatever the
   * backlog, with their original arrival time and recordIds (by which the transform's dedup
   * admits a redelivery of markers the earlier run wrote).
   */
  putRecovered(records: readonly { data: Buffer; arrivalMs: number; tag: number; ordinal: number }[]): void {
    for (const r of records) {
      this.counters.incomingRecords++;
      this.counters.incomingBytes += r.data.length;
      this.toProcessor({ recordId: this.recordIds.next(), data: r.data, arrivalMs: r.arrivalMs }, r);
    }
  }

  /** The configuration it runs (DescribeDeliveryStream). */
  get config(): DeliveryStreamConfig {
    return this.options.config;
  }

  /** Pushes everything buffered through the transform and into the lake, and waits for it. */
  async flush(): Promise<void> {
    for (;;) {
      this.buffer.cut();
      while (this.queue.length > 0 || this.running.size > 0) {
        this.pump();
        await Promise.all(this.running);
      }
      this.partitions.flushAll();
      await this.partitions.written();
      const idle =
        this.buffer.records === 0 &&
        this.queue.length === 0 &&
        this.running.size === 0 &&
        this.partitions.size === 0 &&
        this.partitions.writing === 0;
      if (idle) return;
    }
  }

  /** Refuses new records, flushes every buffer into the lake, stops the timers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.buffer.stop();
  }

  private pump(): void {
    while (this.running.size < this.maxConcurrent && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      const run: Promise<void> = this.process(batch)
        .catch((error) => this.log(`delivery stream ${this.name}: batch lost: ${(error as Error).message}`))
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  /**
   * One processor batch: invoke with retries, then route every record by its result, once, after
   * the retries (a routing failure is no failed invocation, and retrying it would route twice).
   */
  private async process(batch: Batch): Promise<void> {
    const { retries } = this.options.config.processor;
    const outcome = await invokeWithRetries(
      (): Promise<Map<string, ResultRecord>> => {
        this.counters.invocations++;
        return invoke(
          {
            transform: this.options.transform,
            deliveryStreamArn: this.arn,
            region: this.region,
            timeoutMs: this.options.invocationTimeoutMs,
          },
          batch,
        );
      },
      {
        retries,
        retryDelayMs: this.options.retryDelayMs,
        onFailure: (attempt, error) => {
          this.counters.failedInvocations++;
          this.log(
            `delivery stream ${this.name}: invocation ${attempt}/${retries + 1} of ${batch.records.length} records failed: ${error.errorCode}: ${error.message}`,
          );
        },
      },
    );
    this.releaseBacklog(batch.bytes);
    if ('answer' in outcome) {
      this.route(batch, outcome.answer, outcome.attempts);
      return;
    }
    const attemptEndingTimestamp = Date.now();
    for (const record of batch.records) {
      this.toErrors(record, 'processing-failed', {
        attemptsMade: retries + 1,
        errorCode: outcome.failed.errorCode,
        errorMessage: outcome.failed.message,
        attemptEndingTimestamp,
      });
    }
  }

  /** Routes each record of a successful invocation: Ok to its partition, ProcessingFailed to errors. */
  private route(batch: Batch, results: Map<string, ResultRecord>, attempts: number): void {
    const { config } = this.options;
    const now = Date.now();
    for (const record of batch.records) {
      const result = results.get(record.recordId)!;
      if (result.result === 'Dropped') {
        this.counters.droppedRecords++;
        if (record.tag !== undefined) this.options.journal?.settle([record.tag]);
        continue;
      }
      if (result.result === 'ProcessingFailed') {
        this.toErrors(record, 'processing-failed', {
          attemptsMade: attempts,
          errorCode: 'Lambda.ProcessingFailedStatus',
          errorMessage: 'ProcessingFailed status set for the record by the Lambda function.',
          attemptEndingTimestamp: now,
        });
        continue;
      }
      const partition = partitionKeyOf(config.prefix, result, this.partitions, this.maxActivePartitions);
      if ('errorCode' in partition) {
        this.toErrors(record, 'partitioning-failed', {
          attemptsMade: attempts,
          ...partition,
          attemptEndingTimestamp: now,
        });
        continue;
      }
      this.counters.okRecords++;
      this.partitions.add(
        'data',
        partition.key,
        Buffer.from(result.data!, 'base64'),
        record.arrivalMs,
        record.tag,
      );
    }
  }

  private toErrors(record: InputRecord, errorOutputType: string, failure: Failure): void {
    this.counters.failedRecords++;
    this.partitions.add(
      'error',
      errorOutputType,
      failedRecordLine(record, failure, this.lambdaArn),
      record.arrivalMs,
      record.tag,
    );
  }

  /** Writes a flushed partition's object, then counts it and settles its records in the log. */
  private async write(partition: Partition): Promise<void> {
    const object = await writeObject(
      {
        config: this.options.config,
        store: this.options.store,
        streamName: this.name,
        version: this.version,
        log: this.log,
      },
      partition,
    );
    if (partition.kind === 'data') this.counters.dataObjects++;
    else this.counters.errorObjects++;
    this.options.onObject?.(object);
    const journal = this.options.journal;
    if (journal) journal.settle(partition.tags.filter((t) => t !== undefined));
  }

  private releaseBacklog(bytes: number): void {
    this.backlog.bytes -= bytes;
  }
}

/** A logged record's id, from its place in the log: digits, as Firehose's are. */
function loggedRecordId(arrivalMs: number, segment: number, ordinal: number): string {
  return `${String(arrivalMs).padStart(15, '0')}${String(segment).padStart(10, '0')}${String(ordinal).padStart(10, '0')}`;
}
