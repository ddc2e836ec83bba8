import type { DeliveryStreamConfig } from '../../lake/delivery.js';
import { evaluatePartitionKeys, type PrefixEvaluationError } from '../prefix.js';
import { type Backlog, MiB } from './records.js';
import type { ResultRecord } from './response.js';

// The S3 buffers of dynamic partitioning: one per partition key (and one per error output type),
// each flushed on its own when it reaches the buffer size or its interval runs out.

export interface Partition {
  /** What it holds: Ok records of the transform, or records Firehose writes under the error prefix. */
  kind: 'data' | 'error';
  /** Its key within its kind: the prefix with the transform's keys evaluated, or the error output type. */
  key: string;
  chunks: Buffer[];
  arrivals: number[];
  tags: (number | undefined)[];
  bytes: number;
  oldestArrivalMs: number;
  timer: NodeJS.Timeout;
}

export class PartitionBuffers {
  /** The open partitions of each kind, by key: a data prefix and an error output type never mix. */
  private readonly open = { data: new Map<string, Partition>(), error: new Map<string, Partition>() };
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
    return this.open.data.size + this.open.error.size;
  }

  /** Objects being written. */
  get writing(): number {
    return this.writes.size;
  }

  /** Whether a data partition of this key is open. */
  has(key: string): boolean {
    return this.open.data.has(key);
  }

  add(kind: Partition['kind'], key: string, data: Buffer, arrivalMs: number, tag: number | undefined): void {
    const open = this.open[kind];
    let partition = open.get(key);
    if (!partition) {
      const created: Partition = {
        kind,
        key,
        chunks: [],
        arrivals: [],
        tags: [],
        bytes: 0,
        oldestArrivalMs: arrivalMs,
        timer: setTimeout(() => this.flush(created), this.buffering.intervalSeconds * 1000),
      };
      created.timer.unref();
      partition = created;
      open.set(key, partition);
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
    const open = this.open[partition.kind];
    if (open.get(partition.key) !== partition) return;
    clearTimeout(partition.timer);
    open.delete(partition.key);
    const write: Promise<void> = this.write(partition)
      .catch((error) => this.onLost(partition, error as Error))
      .finally(() => {
        this.writes.delete(write);
        this.backlog.bytes -= partition.bytes;
      });
    this.writes.add(write);
  }

  flushAll(): void {
    for (const partition of [...this.open.data.values(), ...this.open.error.values()]) this.flush(partition);
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
