import { randomBytes } from 'node:crypto';

// The records a delivery stream holds between PutRecordBatch and the lake (delivery-stream.ts).

export interface InputRecord {
  recordId: string;
  data: Buffer;
  arrivalMs: number;
  /** Its place in the write-ahead log, settled once the record is in the lake. */
  tag?: number;
}

/** One processor invocation's records. */
export interface Batch {
  records: InputRecord[];
  bytes: number;
}

/** Bytes accepted and not yet in the lake: PutRecord(Batch) answers "Slow down." past a limit. */
export interface Backlog {
  bytes: number;
}

export const MiB = 1024 * 1024;

/** Firehose RecordIds are long opaque digit strings; these are unique within one stream. */
export class RecordIds {
  private readonly prefix = BigInt(`0x${randomBytes(12).toString('hex')}`)
    .toString()
    .padStart(30, '0');
  private sequence = 0n;

  next(): string {
    this.sequence++;
    return `${this.prefix}${this.sequence.toString().padStart(26, '0')}`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
