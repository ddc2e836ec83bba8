import { type DeliveryStreamConfig, FIREHOSE_LIMITS } from '../../lake/delivery.js';
import { type Batch, type InputRecord, MiB } from './records.js';

// The processor buffer: records wait here until the buffer's size or interval is reached, or
// until the next record would take the invocation request over Lambda's 6 MB; then they leave
// as one batch for the transform.

// JSON overhead of one record in the invocation event, beyond its base64 data.
const EVENT_RECORD_OVERHEAD = 160;

export class ProcessorBuffer {
  private batch: Batch = { records: [], bytes: 0 };
  private eventBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly processor: DeliveryStreamConfig['processor'],
    /** Takes each batch cut from the buffer. */
    private readonly onBatch: (batch: Batch) => void,
  ) {}

  /** Records waiting in the buffer. */
  get records(): number {
    return this.batch.records.length;
  }

  add(record: InputRecord): void {
    const eventBytes = Math.ceil(record.data.length / 3) * 4 + EVENT_RECORD_OVERHEAD;
    // The invocation request must stay under Lambda's 6 MB: cut before a record would cross it.
    if (
      this.batch.records.length > 0 &&
      this.eventBytes + eventBytes > FIREHOSE_LIMITS.maxInvocationBytes - 1024
    ) {
      this.cut();
    }
    this.batch.records.push(record);
    this.batch.bytes += record.data.length;
    this.eventBytes += eventBytes;
    const sizeLimit = Math.min(this.processor.bufferSizeMiB * MiB, FIREHOSE_LIMITS.maxProcessorBufferBytes);
    if (this.batch.bytes >= sizeLimit) {
      this.cut();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.cut(), this.processor.bufferIntervalSeconds * 1000);
      this.timer.unref();
    }
  }

  /** Sends what the buffer holds as a batch now (nothing when it is empty). */
  cut(): void {
    this.stop();
    if (this.batch.records.length === 0) return;
    const batch = this.batch;
    this.batch = { records: [], bytes: 0 };
    this.eventBytes = 0;
    this.onBatch(batch);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
