import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import type { DeliveryStreamConfig } from '../../lake/delivery.js';
import type { ObjectStore } from '../../lake/store.js';
import type { DeliveryJournal } from '../wal.js';

// The delivery stream's options, answers and figures (delivery-stream.ts re-exports them).

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

/** Every count of DeliveryStreamStats at zero (the stream adds the backlog and partitions). */
export function zeroCounts(): Omit<DeliveryStreamStats, 'backlogBytes' | 'activePartitions'> {
  return {
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
}
