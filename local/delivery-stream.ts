import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
} from 'aws-lambda';
import { billedBytes, type DeliveryStreamConfig, FIREHOSE_LIMITS } from '../lake/delivery.js';
import { FirelakeError } from '../lake/errors.js';
import type { ObjectStore } from '../lake/store.js';
import { deaggregateJson } from './deaggregate.js';
import { evaluatePartitionKeys, evaluatePrefix, objectKey, type PrefixEvaluationError } from './prefix.js';
import type { DeliveryJournal } from './wal.js';

// A Firehose delivery stream (Direct PUT -> Lambda processor -> S3 with dynamic partitioning),
// behaving as docs/firehose.md describes, configured by the same DeliveryStreamConfig as the CDK
// stack. Records are buffered for the processor (size, interval, the 6 MB invocation limit),
// the transform is invoked with a genuine FirehoseTransformationEvent, its answer is checked
// record by record, failed invocations are retried and then written to the error prefix, and
// every Ok record lands in its partition's buffer, flushed by size and interval as GZIP objects
// named as Firehose names them.

const gzip = promisify(gzipCallback);
const MiB = 1024 * 1024;

/** The transformation Lambda as a plain function; tests inject misbehaving ones. */
export type TransformFunction = (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult>;

export interface DeliveryStreamOptions {
  config: DeliveryStreamConfig;
  store: ObjectStore;
  transform: TransformFunction;
  region?: string;
  accountId?: string;
  /** ARN written into processing-failed records. */
  lambdaArn?: string;
  /** Bytes accepted but not yet in the lake before PutRecord(Batch) answers "Slow down.". */
  maxBacklogBytes?: number;
  /** Processor invocations in flight at once (Firehose runs several). */
  maxConcurrentInvocations?: number;
  /** Firehose gives a processor invocation 5 minutes. */
  invocationTimeoutMs?: number;
  /** Wait before retry n (1-based) of a failed invocation. */
  retryDelayMs?: (retry: number) => number;
  /** Firehose's default limit of active partitions; records past it go to the error prefix. */
  maxActivePartitions?: number;
  /** Delivery stream version in object names. */
  version?: number;
  log?: (line: string) => void;
  /** Called after each object is in the store (for progress and latency measurements). */
  onObject?: (object: DeliveredObject) => void;
  /**
   * The write-ahead log (wal.ts): accepted records are appended to it in put(), the caller
   * awaits committed() before acknowledging, and each record is settled once in the lake.
   */
  journal?: DeliveryJournal;
}

export interface DeliveredObject {
  key: string;
  kind: 'data' | 'error';
  records: number;
  bytes: number;
  /** Arrival time of each record in it, epoch ms. */
  arrivals: number[];
  writtenAt: number;
}

/** One record's answer to PutRecord(Batch): its RecordId, or why it was refused. */
export type PutResult = { RecordId: string } | { ErrorCode: string; ErrorMessage: string };

export interface DeliveryStreamStats {
  /** Records as PutRecord(Batch) took them (what Firehose bills, in 5 KB steps). */
  incomingRecords: number;
  incomingBytes: number;
  /** Bytes Firehose bills for them: each record rounded up to 5 KB (5,120 bytes). */
  billedBytes: number;
  /** Records handed to the processor: the sub-records of deaggregated records, the others as they came. */
  processorRecords: number;
  /** Records that did not deaggregate (over 500 sub-records, or not clean JSON objects): passed whole. */
  deaggregationFailures: number;
  throttledRecords: number;
  invocations: number;
  failedInvocations: number;
  okRecords: number;
  droppedRecords: number;
  /** Records written to the error prefix: processing-failed or partitioning-failed. */
  failedRecords: number;
  dataObjects: number;
  errorObjects: number;
  /** Objects the store refused past the retry duration (logged; the data is lost). */
  deliveryFailures: number;
  backlogBytes: number;
  activePartitions: number;
}

interface InputRecord {
  recordId: string;
  data: Buffer;
  arrivalMs: number;
  /** Its place in the write-ahead log, settled once the record is in the lake. */
  tag?: number;
}

interface Batch {
  records: InputRecord[];
  bytes: number;
}

interface Partition {
  key: string;
  kind: 'data' | 'error';
  errorOutputType?: string;
  chunks: Buffer[];
  arrivals: number[];
  tags: (number | undefined)[];
  bytes: number;
  oldestArrivalMs: number;
  timer: NodeJS.Timeout;
}

/** Why an invocation failed, with Firehose's error code. */
export class InvocationError extends FirelakeError {
  static override readonly code: string = 'TRANSFORM_INVOCATION_FAILED';
  constructor(
    readonly errorCode: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvocationError';
  }
}

export class DeliveryStreamClosedError extends FirelakeError {
  static override readonly code: string = 'DELIVERY_STREAM_CLOSED';
  constructor(readonly streamName: string) {
    super(`delivery stream ${streamName} is shutting down`);
    this.name = 'DeliveryStreamClosedError';
  }
}

/** Firehose bills ingestion per record in 5 KB steps. */
const RESULTS = new Set(['Ok', 'Dropped', 'ProcessingFailed']);
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
// JSON overhead of one record in the invocation event, beyond its base64 data.
const EVENT_RECORD_OVERHEAD = 160;

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

  private buffer: Batch = { records: [], bytes: 0 };
  private bufferEventBytes = 0;
  private bufferTimer: NodeJS.Timeout | undefined;
  private readonly queue: Batch[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly partitions = new Map<string, Partition>();
  private readonly writes = new Set<Promise<void>>();
  private readonly idPrefix = BigInt(`0x${randomBytes(12).toString('hex')}`)
    .toString()
    .padStart(30, '0');
  private sequence = 0n;
  private closed = false;
  private readonly deaggregationLogged = new Set<string>();
  private readonly counters = {
    incomingRecords: 0,
    incomingBytes: 0,
    billedBytes: 0,
    processorRecords: 0,
    deaggregationFailures: 0,
    throttledRecords: 0,
    invocations: 0,
    failedInvocations: 0,
    okRecords: 0,
    droppedRecords: 0,
    failedRecords: 0,
    dataObjects: 0,
    errorObjects: 0,
    deliveryFailures: 0,
  };
  private backlogBytes = 0;

  constructor(private readonly options: DeliveryStreamOptions) {
    const { config } = options;
    this.name = config.streamName;
    this.region = options.region ?? 'us-east-1';
    const account = options.accountId ?? '000000000000';
    this.arn = `arn:aws:firehose:${this.region}:${account}:deliverystream/${this.name}`;
    this.lambdaArn =
      options.lambdaArn ?? `arn:aws:lambda:${this.region}:${account}:function:firelake-transform`;
    this.maxBacklogBytes = options.maxBacklogBytes ?? 256 * MiB;
    this.maxConcurrent = options.maxConcurrentInvocations ?? 4;
    this.maxActivePartitions = options.maxActivePartitions ?? 500;
    this.version = options.version ?? 1;
    this.log = options.log ?? (() => {});
    if (!config.errorPrefix.includes('!{firehose:error-output-type}')) {
      throw new Error('the error prefix must contain !{firehose:error-output-type}');
    }
    if (config.errorPrefix.includes('!{partitionKeyFromLambda:')) {
      throw new Error('the error prefix cannot use the partitionKeyFromLambda namespace');
    }
  }

  stats(): DeliveryStreamStats {
    return { ...this.counters, backlogBytes: this.backlogBytes, activePartitions: this.partitions.size };
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
      if (this.backlogBytes + taking + bytes.length > this.maxBacklogBytes) {
        this.counters.throttledRecords++;
        return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      }
      const recordId = this.nextRecordId();
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
    let tag: number | undefined;
    try {
      tag = this.options.journal?.append(
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
    for (const record of accepted) this.toProcessor(record, tag);
    return results;
  }

  /**
   * Deaggregation comes before the processor (docs/firehose.md); each sub-record is a record of its
   * own for the transform, with the arrival time of the record it came in. A record that stays
   * one keeps its RecordId; sub-records get ids of their own. The log holds the record as it was
   * put, so its entry is settled once per part.
   */
  private toProcessor(record: InputRecord, tag: number | undefined): void {
    const parts = this.subRecords(record.data);
    if (tag !== undefined && parts.length > 1) this.options.journal?.retain(tag, parts.length - 1);
    for (const data of parts) {
      const recordId = parts.length === 1 ? record.recordId : this.nextRecordId();
      this.counters.processorRecords++;
      this.backlogBytes += data.length;
      this.addToProcessorBuffer({ recordId, data, arrivalMs: record.arrivalMs, tag });
    }
  }

  /** Resolves once the records put so far are in the write-ahead log (at once without one). */
  committed(): Promise<void> {
    return this.options.journal?.commit() ?? Promise.resolve();
  }

  /**
   * Records an earlier run acknowledged and logged but did not deliver: taken whatever the
   * backlog, with their original arrival time (the transform's dedup key for a redelivery).
   */
  putRecovered(records: readonly { data: Buffer; arrivalMs: number; tag: number }[]): void {
    for (const r of records) {
      this.counters.incomingRecords++;
      this.counters.incomingBytes += r.data.length;
      this.toProcessor({ recordId: this.nextRecordId(), data: r.data, arrivalMs: r.arrivalMs }, r.tag);
    }
  }

  /** The configuration it runs (DescribeDeliveryStream). */
  get config(): DeliveryStreamConfig {
    return this.options.config;
  }

  /** Pushes everything buffered through the transform and into the lake, and waits for it. */
  async flush(): Promise<void> {
    for (;;) {
      this.cutProcessorBuffer();
      while (this.queue.length > 0 || this.running.size > 0) {
        this.pump();
        await Promise.all(this.running);
      }
      for (const partition of [...this.partitions.values()]) this.flushPartition(partition);
      await Promise.all(this.writes);
      const idle =
        this.buffer.records.length === 0 &&
        this.queue.length === 0 &&
        this.running.size === 0 &&
        this.partitions.size === 0 &&
        this.writes.size === 0;
      if (idle) return;
    }
  }

  /** Refuses new records, flushes every buffer into the lake, stops the timers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    clearTimeout(this.bufferTimer);
  }

  /** The record's JSON sub-records when the stream deaggregates and it splits, else the record. */
  private subRecords(data: Buffer): Buffer[] {
    if (this.options.config.deaggregation !== 'JSON') return [data];
    const split = deaggregateJson(data);
    if (split.ok) return split.records;
    this.counters.deaggregationFailures++;
    // Once per kind: a producer that sends unpacked bad records would flood the log otherwise.
    if (!this.deaggregationLogged.has(split.errorCode)) {
      this.deaggregationLogged.add(split.errorCode);
      this.log(
        `delivery stream ${this.name}: ${split.errorCode}: ${split.message} (passed whole to the transform; later ones are only counted)`,
      );
    }
    return [data];
  }

  // Firehose RecordIds are long opaque digit strings; unique within this stream.
  private nextRecordId(): string {
    this.sequence++;
    return `${this.idPrefix}${this.sequence.toString().padStart(26, '0')}`;
  }

  private addToProcessorBuffer(record: InputRecord): void {
    const { processor } = this.options.config;
    const eventBytes = Math.ceil(record.data.length / 3) * 4 + EVENT_RECORD_OVERHEAD;
    // The invocation request must stay under Lambda's 6 MB: cut before a record would cross it.
    if (
      this.buffer.records.length > 0 &&
      this.bufferEventBytes + eventBytes > FIREHOSE_LIMITS.maxInvocationBytes - 1024
    ) {
      this.cutProcessorBuffer();
    }
    this.buffer.records.push(record);
    this.buffer.bytes += record.data.length;
    this.bufferEventBytes += eventBytes;
    const sizeLimit = Math.min(processor.bufferSizeMiB * MiB, FIREHOSE_LIMITS.maxProcessorBufferBytes);
    if (this.buffer.bytes >= sizeLimit) {
      this.cutProcessorBuffer();
    } else if (!this.bufferTimer) {
      this.bufferTimer = setTimeout(() => this.cutProcessorBuffer(), processor.bufferIntervalSeconds * 1000);
      this.bufferTimer.unref();
    }
  }

  private cutProcessorBuffer(): void {
    clearTimeout(this.bufferTimer);
    this.bufferTimer = undefined;
    if (this.buffer.records.length === 0) return;
    this.queue.push(this.buffer);
    this.buffer = { records: [], bytes: 0 };
    this.bufferEventBytes = 0;
    this.pump();
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

  /** One processor batch: invoke with retries, then route every record by its result. */
  private async process(batch: Batch): Promise<void> {
    const { retries } = this.options.config.processor;
    let lastError: InvocationError | undefined;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      try {
        const response = await this.invoke(batch);
        this.route(batch, response, attempt);
        return;
      } catch (error) {
        lastError =
          error instanceof InvocationError
            ? error
            : new InvocationError('Lambda.FunctionError', String((error as Error)?.message ?? error), {
                cause: error,
              });
        this.counters.failedInvocations++;
        this.log(
          `delivery stream ${this.name}: invocation ${attempt}/${retries + 1} of ${batch.records.length} records failed: ${lastError.errorCode}: ${lastError.message}`,
        );
        if (attempt <= retries)
          await sleep(this.options.retryDelayMs?.(attempt) ?? defaultRetryDelay(attempt));
      }
    }
    const attemptEndingTimestamp = Date.now();
    this.releaseBacklog(batch.bytes);
    for (const record of batch.records) {
      this.toErrors(record, 'processing-failed', {
        attemptsMade: retries + 1,
        errorCode: lastError!.errorCode,
        errorMessage: lastError!.message,
        attemptEndingTimestamp,
      });
    }
  }

  private async invoke(batch: Batch): Promise<Map<string, ResultRecord>> {
    const records: FirehoseTransformationEventRecord[] = batch.records.map((r) => ({
      recordId: r.recordId,
      approximateArrivalTimestamp: r.arrivalMs,
      data: r.data.toString('base64'),
    }));
    const event: FirehoseTransformationEvent = {
      invocationId: randomUUID(),
      deliveryStreamArn: this.arn,
      region: this.region,
      records,
    };
    this.counters.invocations++;
    const timeoutMs = this.options.invocationTimeoutMs ?? 300_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new InvocationError('Lambda.FunctionTimedOut', `Task timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    let raw: unknown;
    try {
      raw = await Promise.race([this.options.transform(event), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return checkResponse(batch.records, raw);
  }

  /** Routes each record of a successful invocation: Ok to its partition, ProcessingFailed to errors. */
  private route(batch: Batch, results: Map<string, ResultRecord>, attempts: number): void {
    const { config } = this.options;
    this.releaseBacklog(batch.bytes);
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
      let key: string;
      try {
        key = evaluatePartitionKeys(config.prefix, result.metadata?.partitionKeys ?? {});
      } catch (error) {
        this.toErrors(record, 'partitioning-failed', {
          attemptsMade: attempts,
          errorCode: 'DynamicPartitioning.MetadataExtractionFailed',
          errorMessage: (error as PrefixEvaluationError).message,
          attemptEndingTimestamp: now,
        });
        continue;
      }
      if (!this.partitions.has(key) && this.partitions.size >= this.maxActivePartitions) {
        this.toErrors(record, 'partitioning-failed', {
          attemptsMade: attempts,
          errorCode: 'DynamicPartitioning.PartitionCountExceeded',
          errorMessage: `more than ${this.maxActivePartitions} active partitions`,
          attemptEndingTimestamp: now,
        });
        continue;
      }
      this.counters.okRecords++;
      this.addToPartition(
        key,
        'data',
        undefined,
        Buffer.from(result.data!, 'base64'),
        record.arrivalMs,
        record.tag,
      );
    }
  }

  private toErrors(
    record: InputRecord,
    errorOutputType: string,
    failure: {
      attemptsMade: number;
      errorCode: string;
      errorMessage: string;
      attemptEndingTimestamp: number;
    },
  ): void {
    this.counters.failedRecords++;
    // The documented fields of a processing-failed record (docs/firehose.md), one JSON line each.
    const line = `${JSON.stringify({
      attemptsMade: failure.attemptsMade,
      arrivalTimestamp: record.arrivalMs,
      errorCode: failure.errorCode,
      errorMessage: failure.errorMessage,
      attemptEndingTimestamp: failure.attemptEndingTimestamp,
      rawData: record.data.toString('base64'),
      lambdaArn: this.lambdaArn,
    })}\n`;
    const key = this.options.config.errorPrefix.replaceAll('!{firehose:error-output-type}', errorOutputType);
    this.addToPartition(
      `error:${key}`,
      'error',
      errorOutputType,
      Buffer.from(line),
      record.arrivalMs,
      record.tag,
    );
  }

  private addToPartition(
    key: string,
    kind: Partition['kind'],
    errorOutputType: string | undefined,
    data: Buffer,
    arrivalMs: number,
    tag: number | undefined,
  ): void {
    const { buffering } = this.options.config;
    let partition = this.partitions.get(key);
    if (!partition) {
      const created: Partition = {
        key,
        kind,
        errorOutputType,
        chunks: [],
        arrivals: [],
        tags: [],
        bytes: 0,
        oldestArrivalMs: arrivalMs,
        timer: setTimeout(() => this.flushPartition(created), buffering.intervalSeconds * 1000),
      };
      created.timer.unref();
      partition = created;
      this.partitions.set(key, partition);
    }
    partition.chunks.push(data);
    partition.arrivals.push(arrivalMs);
    partition.tags.push(tag);
    partition.bytes += data.length;
    if (arrivalMs < partition.oldestArrivalMs) partition.oldestArrivalMs = arrivalMs;
    this.backlogBytes += data.length;
    if (partition.bytes >= buffering.sizeMiB * MiB) this.flushPartition(partition);
  }

  private flushPartition(partition: Partition): void {
    if (this.partitions.get(partition.key) !== partition) return;
    clearTimeout(partition.timer);
    this.partitions.delete(partition.key);
    const write: Promise<void> = this.write(partition)
      .catch((error) => {
        this.counters.deliveryFailures++;
        this.log(
          `delivery stream ${this.name}: LOST ${partition.arrivals.length} records of ${partition.key}: ${(error as Error).message}`,
        );
      })
      .finally(() => {
        this.writes.delete(write);
        this.releaseBacklog(partition.bytes);
      });
    this.writes.add(write);
  }

  private async write(partition: Partition): Promise<void> {
    const template = partition.kind === 'error' ? partition.key.slice('error:'.length) : partition.key;
    const prefix = evaluatePrefix(template, {
      timestampMs: partition.oldestArrivalMs,
      errorOutputType: partition.errorOutputType,
    });
    const key = objectKey(
      prefix,
      { name: this.name, version: this.version },
      partition.oldestArrivalMs,
      randomUUID(),
      '.gz',
    );
    const body = await gzip(Buffer.concat(partition.chunks, partition.bytes));
    // S3 delivery is retried for the dynamic-partitioning retry duration, as Firehose does.
    const deadline = Date.now() + this.options.config.dynamicPartitioningRetrySeconds * 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.store.put(key, body, { contentType: 'application/octet-stream' });
        break;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        this.log(
          `delivery stream ${this.name}: writing ${key} failed (${(error as Error).message}), retrying`,
        );
        await sleep(Math.min(30_000, 200 * 2 ** attempt));
      }
    }
    if (partition.kind === 'data') this.counters.dataObjects++;
    else this.counters.errorObjects++;
    this.options.onObject?.({
      key,
      kind: partition.kind,
      records: partition.arrivals.length,
      bytes: body.length,
      arrivals: partition.arrivals,
      writtenAt: Date.now(),
    });
    const journal = this.options.journal;
    if (journal) journal.settle(partition.tags.filter((t) => t !== undefined));
  }

  private releaseBacklog(bytes: number): void {
    this.backlogBytes -= bytes;
  }
}

interface ResultRecord {
  recordId: string;
  result: 'Ok' | 'Dropped' | 'ProcessingFailed';
  data?: string;
  metadata?: { partitionKeys?: Record<string, string> };
}

/**
 * Checks a transform answer as Firehose does: it must be JSON of the documented shape, within
 * 6 MB, and return every input recordId exactly once; otherwise the whole invocation fails.
 */
export function checkResponse(
  input: readonly { recordId: string }[],
  raw: unknown,
): Map<string, ResultRecord> {
  // Through JSON, as the Lambda wire does: what cannot be serialised is unparsable.
  let text: string | undefined;
  try {
    text = JSON.stringify(raw);
  } catch (error) {
    throw new InvocationError('Lambda.JsonProcessingException', 'the response is not JSON', { cause: error });
  }
  if (text === undefined)
    throw new InvocationError('Lambda.JsonProcessingException', 'the response is empty');
  if (Buffer.byteLength(text) > FIREHOSE_LIMITS.maxInvocationBytes) {
    throw new InvocationError(
      'Lambda.FunctionError',
      `Response payload size exceeded maximum allowed payload size (${FIREHOSE_LIMITS.maxInvocationBytes} bytes).`,
    );
  }
  const parsed = JSON.parse(text) as { records?: unknown };
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.records)) {
    throw new InvocationError('Lambda.JsonProcessingException', 'the response has no "records" array');
  }
  const expected = new Set(input.map((r) => r.recordId));
  const results = new Map<string, ResultRecord>();
  for (const item of parsed.records as unknown[]) {
    const r = item as Partial<ResultRecord> | null;
    if (typeof r !== 'object' || r === null || typeof r.recordId !== 'string') {
      throw new InvocationError('Lambda.JsonProcessingException', 'a response record has no recordId string');
    }
    if (typeof r.result !== 'string' || !RESULTS.has(r.result)) {
      throw new InvocationError(
        'Lambda.JsonProcessingException',
        `record ${r.recordId}: result must be Ok, Dropped or ProcessingFailed, got ${JSON.stringify(r.result)}`,
      );
    }
    if (
      r.result === 'Ok' &&
      (typeof r.data !== 'string' || r.data.length % 4 !== 0 || !BASE64_RE.test(r.data))
    ) {
      throw new InvocationError('Lambda.JsonProcessingException', `record ${r.recordId}: data is not base64`);
    }
    const keys = r.metadata?.partitionKeys;
    if (
      keys !== undefined &&
      (typeof keys !== 'object' || keys === null || Object.values(keys).some((v) => typeof v !== 'string'))
    ) {
      throw new InvocationError(
        'Lambda.JsonProcessingException',
        `record ${r.recordId}: metadata.partitionKeys must map names to strings`,
      );
    }
    if (results.has(r.recordId)) {
      throw new InvocationError(
        'Lambda.DuplicatedRecordId',
        `The Lambda function returned record ID ${r.recordId} more than once.`,
      );
    }
    if (!expected.has(r.recordId)) {
      throw new InvocationError(
        'Lambda.MissingRecordId',
        `The Lambda function returned record ID ${r.recordId}, which is not in the invocation.`,
      );
    }
    results.set(r.recordId, r as ResultRecord);
  }
  for (const id of expected) {
    if (!results.has(id)) {
      throw new InvocationError(
        'Lambda.MissingRecordId',
        `The Lambda function did not return record ID ${id}.`,
      );
    }
  }
  return results;
}

// Firehose's backoff between retries of a failed invocation is not documented; a few seconds,
// doubling, keeps a transient DynamoDB failure from exhausting the retries at once.
function defaultRetryDelay(retry: number): number {
  return Math.min(10_000, 500 * 2 ** (retry - 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
