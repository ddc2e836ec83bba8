import type { DeliveryStreamConfig } from '../../lake/delivery.js';
import { evaluatePartitionKeys, type PrefixEvaluationError } from '../prefix.js';
import { type Backlog, MiB } from './records.js';
import type { ResultRecord } from './response.js';

// The S3 buffers of dynamic partitioning: one per partition key (and one per error prefix),
// each flushed on its own when it reaches the buffer size or its interval runs out.

export interface Partition {
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

export class PartitionBuffers {
  private readonly open = new Map<string, Partition>();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly buffering: DeliveryStreamConfig['buffering'],
    private readonly backlog: Backlog,
    /** Writes a flushed partition's object. */
    private readonly write: (partition: Partition) => Promise<void>,
    /** A write that failed past its retries: the partition's records are lost. */
    private readonly onLost: (partition: Partition, error: Error) => void,
  ) {}

  /** Partitions with records buffered (Firehose's active partitions). */
  get size(): number {
    return this.open.size;
  }

  /** Objects being written. */
  get writing(): number {
    return this.writes.size;
  }

  has(key: string): boolean {
    return this.open.has(key);
  }

  add(
    key: string,
    kind: Partition['kind'],
    errorOutputType: string | undefined,
    data: Buffer,
    arrivalMs: number,
    tag: number | undefined,
  ): void {
    let partition = this.open.get(key);
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
        timer: setTimeout(() => this.flush(created), this.buffering.intervalSeconds * 1000),
      };
      created.timer.unref();
      partition = created;
      this.open.set(key, partition);
    }
    partition.chunks.push(data);
    partition.arrivals.push(arrivalMs);
    partition.tags.push(tag);
    partition.bytes += data.length;
    if (arrivalMs < partition.oldestArrivalMs) partition.oldestArrivalMs = arrivalMs;
    this.backlog.bytes += data.length;
    if (partition.bytes >= this.buffering.sizeMiB * MiB) this.flush(partition);
  }

  flush(partition: Partition): void {
    if (this.open.get(partition.key) !== partition) return;
    clearTimeout(partition.timer);
    this.open.delete(partition.key);
    const write: Promise<void> = this.write(partition)
      .catch((error) => this.onLost(partition, error as Error))
      .finally(() => {
        this.writes.delete(write);
        this.backlog.bytes -= partition.bytes;
      });
    this.writes.add(write);
  }

  flushAll(): void {
    for (const partition of [...this.open.values()]) this.flush(partition);
  }

  /** Waits for the objects being written. */
  async written(): Promise<void> {
    await Promise.all(this.writes);
  }
}

/**
 * The partition of an Ok record, from the prefix and the partition keys the transform gave it;
 * or why it cannot have one (Firehose's error code and message).
 */
export function partitionKeyOf(
  prefix: string,
  result: ResultRecord,
  partitions: PartitionBuffers,
  maxActivePartitions: number,
): { key: string } | { errorCode: string; errorMessage: string } {
  let key: string;
  try {
    key = evaluatePartitionKeys(prefix, result.metadata?.partitionKeys ?? {});
  } catch (error) {
    return {
      errorCode: 'DynamicPartitioning.MetadataExtractionFailed',
      errorMessage: (error as PrefixEvaluationError).message,
    };
  }
  if (!partitions.has(key) && partitions.size >= maxActivePartitions) {
    return {
      errorCode: 'DynamicPartitioning.PartitionCountExceeded',
      errorMessage: `more than ${maxActivePartitions} active partitions`,
    };
  }
  return { key };
}
