import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { DeliveryStreamConfig } from '../../lake/delivery.js';
import type { ObjectStore } from '../../lake/store.js';
import { evaluatePrefix, objectKey } from '../prefix.js';
import type { Partition } from './partition.js';
import { sleep } from './records.js';
import type { DeliveredObject } from './types.js';

// Writing a flushed partition to the lake: the object named as Firehose names it, GZIP, and the
// put retried for the dynamic-partitioning retry duration, as Firehose does.

const gzip = promisify(gzipCallback);

export interface ObjectWriter {
  config: DeliveryStreamConfig;
  store: ObjectStore;
  streamName: string;
  /** Delivery stream version in object names. */
  version: number;
  log: (line: string) => void;
}

/** Writes the partition's records as one object, and describes it once it is in the store. */
export async function writeObject(writer: ObjectWriter, partition: Partition): Promise<DeliveredObject> {
  // The error output type is put in the error prefix here, with the timestamps, and nowhere else.
  const prefix =
    partition.kind === 'data'
      ? evaluatePrefix(partition.key, { timestampMs: partition.oldestArrivalMs })
      : evaluatePrefix(writer.config.errorPrefix, {
          timestampMs: partition.oldestArrivalMs,
          errorOutputType: partition.key,
        });
  const key = objectKey(
    prefix,
    { name: writer.streamName, version: writer.version },
    partition.oldestArrivalMs,
    randomUUID(),
    '.gz',
  );
  const body = await gzip(Buffer.concat(partition.chunks, partition.bytes));
  const deadline = Date.now() + writer.config.dynamicPartitioningRetrySeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await writer.store.put(key, body, { contentType: 'application/octet-stream' });
      return {
        key,
        kind: partition.kind,
        records: partition.arrivals.length,
        bytes: body.length,
        arrivals: partition.arrivals,
        writtenAt: Date.now(),
      };
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      writer.log(
        `delivery stream ${writer.streamName}: writing ${key} failed (${(error as Error).message}), retrying`,
      );
      await sleep(Math.min(30_000, 200 * 2 ** attempt));
    }
  }
}
