import { FIREHOSE_ERROR_PREFIX, FIREHOSE_PREFIX } from './layout.js';
import { DEFAULT_NAME_PREFIX, streamNameFor } from './settings.js';

// The delivery stream's configuration, derived in one function (deliveryStreamConfig) for the
// CDK stack and the local Firehose from the settings a deployment tunes (infra/config.ts: the
// defaults, a profile, cdk.json's context), so what runs on a laptop is what runs in AWS: only
// the S3 buffers and the processor's interval are shorter locally.

/** What a deployment tunes of its delivery stream (`delivery` of infra/config.ts). */
export interface DeliverySettings {
  /** `direct-put`: producers call PutRecordBatch; `kinesis`: an on-demand Kinesis Data Stream in front. */
  source: 'direct-put' | 'kinesis';
  bufferSizeMiB: number;
  bufferIntervalSeconds: number;
  processorBufferSizeMiB: number;
  processorBufferIntervalSeconds: number;
  processorRetries: number;
  dynamicPartitioningRetrySeconds: number;
  /**
   * Firehose's RecordDeAggregation processor (JSON) before the transform: producers may pack
   * up to 500 newline-delimited events in one record, billed as one (docs/packing.md).
   */
  recordDeaggregation: boolean;
  /** Kinesis source only: how long the stream keeps records (24-8760 h). */
  kinesisRetentionHours: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  source: 'direct-put',
  bufferSizeMiB: 128,
  bufferIntervalSeconds: 60,
  processorBufferSizeMiB: 1,
  processorBufferIntervalSeconds: 60,
  processorRetries: 3,
  dynamicPartitioningRetrySeconds: 300,
  recordDeaggregation: true,
  kinesisRetentionHours: 24,
};

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

/**
 * The stream a deployment's settings describe, in AWS or locally. Locally the S3 buffers are
 * smaller and faster (8 MiB, 5 s; the processor's interval 1 s): a laptop run shows objects
 * within seconds instead of a minute. Everything else (prefixes, processor size, retries,
 * deaggregation) is the deployment's.
 */
export function deliveryStreamConfig(
  settings: DeliverySettings,
  options: { runtime: 'aws' | 'local'; namePrefix?: string },
): DeliveryStreamConfig {
  const local = options.runtime === 'local';
  return {
    streamName: streamNameFor(options.namePrefix ?? DEFAULT_NAME_PREFIX),
    prefix: FIREHOSE_PREFIX,
    errorPrefix: FIREHOSE_ERROR_PREFIX,
    compression: 'GZIP',
    buffering: local
      ? { sizeMiB: 8, intervalSeconds: 5 }
      : { sizeMiB: settings.bufferSizeMiB, intervalSeconds: settings.bufferIntervalSeconds },
    processor: {
      bufferSizeMiB: settings.processorBufferSizeMiB,
      bufferIntervalSeconds: local ? 1 : settings.processorBufferIntervalSeconds,
      retries: settings.processorRetries,
    },
    dynamicPartitioningRetrySeconds: settings.dynamicPartitioningRetrySeconds,
    deaggregation: settings.recordDeaggregation ? 'JSON' : undefined,
  };
}

/** The default deployment's stream in AWS, and on a laptop. */
export const AWS_DELIVERY = deliveryStreamConfig(DEFAULT_DELIVERY_SETTINGS, { runtime: 'aws' });
export const LOCAL_DELIVERY = deliveryStreamConfig(DEFAULT_DELIVERY_SETTINGS, { runtime: 'local' });

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
