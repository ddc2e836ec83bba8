import { FIREHOSE_ERROR_PREFIX, FIREHOSE_PREFIX } from './layout.js';
import { DEFAULT_STREAM_NAME } from './settings.js';

// The delivery stream's configuration: one object for the CDK stack and the local Firehose, so
// what runs on a laptop is what runs in AWS (only buffer sizes differ locally, see LOCAL_DELIVERY).

export interface DeliveryStreamConfig {
  streamName: string;
  prefix: string;
  errorPrefix: string;
  compression: 'GZIP';
  /** S3 buffering per partition. With dynamic partitioning AWS requires >= 64 MiB and >= 60 s. */
  buffering: { sizeMiB: number; intervalSeconds: number };
  /** Lambda processor buffering (0.2-3 MB, 0-900 s) and retries of a failed invocation. */
  processor: { bufferSizeMiB: number; bufferIntervalSeconds: number; retries: number };
  /** How long Firehose retries delivery to S3 when dynamic partitioning is on. */
  dynamicPartitioningRetrySeconds: number;
  /**
   * Multi-record deaggregation before the processor (`RecordDeAggregation`, SubRecordType JSON):
   * producers may pack up to 500 JSON events in one record. Absent: one event per record.
   */
  deaggregation?: 'JSON';
}

export const AWS_DELIVERY: DeliveryStreamConfig = {
  streamName: DEFAULT_STREAM_NAME,
  prefix: FIREHOSE_PREFIX,
  errorPrefix: FIREHOSE_ERROR_PREFIX,
  compression: 'GZIP',
  buffering: { sizeMiB: 128, intervalSeconds: 60 },
  processor: { bufferSizeMiB: 1, bufferIntervalSeconds: 60, retries: 3 },
  dynamicPartitioningRetrySeconds: 300,
  deaggregation: 'JSON',
};

/**
 * Locally the same stream with smaller, faster buffers: a laptop run shows objects within
 * seconds instead of a minute. Everything else (prefixes, processor limits, retries) is AWS's.
 */
export const LOCAL_DELIVERY: DeliveryStreamConfig = {
  ...AWS_DELIVERY,
  buffering: { sizeMiB: 8, intervalSeconds: 5 },
  processor: { ...AWS_DELIVERY.processor, bufferIntervalSeconds: 1 },
};

/** Firehose limits (docs/firehose.md) that producers and the local endpoint both enforce. */
export const FIREHOSE_LIMITS = {
  maxRecordsPerBatch: 500,
  maxBatchBytes: 4 * 1024 * 1024,
  maxRecordBytes: 1000 * 1024,
  maxInvocationBytes: 6 * 1024 * 1024,
  maxProcessorBufferBytes: 3 * 1024 * 1024,
  /** RecordDeAggregation splits at most this many sub-records from one record. */
  maxSubRecordsPerRecord: 500,
  /** Ingestion is billed per record rounded up to this step (5 KB). */
  billingStepBytes: 5 * 1024,
} as const;

/** The bytes Firehose bills for one record of `bytes`: rounded up to the 5 KB step, never 0. */
export function billedBytes(bytes: number): number {
  const step = FIREHOSE_LIMITS.billingStepBytes;
  return Math.max(1, Math.ceil(bytes / step)) * step;
}
