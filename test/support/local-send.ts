import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { expect } from 'vitest';
import { firehoseClient } from '../../aws/firehose.js';
import type { ObjectStore } from '../../lake/store.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime.js';

// Events into a lake the way an app sends them: the AWS SDK's PutRecordBatch to the local
// Firehose endpoint, the real transform on an in-memory dynalite, every buffer flushed.

/**
 * Sends each group of events as one PutRecordBatch and flushes it into the lake before the next
 * (a later group reads the state an earlier one wrote). `inspect` runs before the pipeline stops.
 */
export async function sendThroughLocalFirehose(
  store: ObjectStore,
  groups: readonly (readonly object[])[],
  inspect?: (pipeline: LocalPipeline) => Promise<void>,
): Promise<void> {
  const pipeline = await startLocalPipeline({ lake: store, inMemoryDynamo: true, port: 0 });
  try {
    // The producer finds the endpoint the way any SDK producer does: AWS_ENDPOINT_URL_FIREHOSE.
    for (const [k, v] of Object.entries(pipeline.env)) process.env[k] = v;
    const firehose = firehoseClient();
    try {
      for (const events of groups) {
        const answer = await firehose.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: pipeline.streamName,
            Records: events.map((e) => ({ Data: Buffer.from(JSON.stringify(e)) })),
          }),
        );
        expect(answer.FailedPutCount).toBe(0);
        await pipeline.flush();
      }
    } finally {
      firehose.destroy();
    }
    await inspect?.(pipeline);
  } finally {
    await pipeline.close();
  }
}
