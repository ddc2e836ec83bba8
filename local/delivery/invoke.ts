import { randomUUID } from 'node:crypto';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';
import { InvocationError } from './invocation-error.js';
import { type Batch, sleep } from './records.js';
import { checkResponse, type ResultRecord } from './response.js';
import type { TransformFunction } from './types.js';

// Invoking the processor as Firehose does: a genuine FirehoseTransformationEvent, the invocation
// timeout, the answer checked record by record, and a failed invocation retried.

export interface Invoker {
  transform: TransformFunction;
  deliveryStreamArn: string;
  region: string;
  /** Firehose gives a processor invocation 5 minutes. */
  timeoutMs?: number;
}

/** One invocation of the transform with a batch; its checked results by recordId. */
export async function invoke(invoker: Invoker, batch: Batch): Promise<Map<string, ResultRecord>> {
  const records: FirehoseTransformationEventRecord[] = batch.records.map((r) => ({
    recordId: r.recordId,
    approximateArrivalTimestamp: r.arrivalMs,
    data: r.data.toString('base64'),
  }));
  const event: FirehoseTransformationEvent = {
    invocationId: randomUUID(),
    deliveryStreamArn: invoker.deliveryStreamArn,
    region: invoker.region,
    records,
  };
  const timeoutMs = invoker.timeoutMs ?? 300_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new InvocationError('Lambda.FunctionTimedOut', `Task timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  let raw: unknown;
  try {
    raw = await Promise.race([invoker.transform(event), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return checkResponse(batch.records, raw);
}

/**
 * Runs `attempt` (one invocation) up to `retries + 1` times until one succeeds, waiting between
 * them; `onFailure` hears each failed one. An error that is not an InvocationError counts as
 * Lambda.FunctionError. Gives the answer and the attempts it took, or the last error when all
 * fail. What is done with an answer happens after, once: never inside a retried attempt.
 */
export async function invokeWithRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: {
    retries: number;
    retryDelayMs?: (retry: number) => number;
    onFailure: (attempt: number, error: InvocationError) => void;
  },
): Promise<{ answer: T; attempts: number } | { failed: InvocationError }> {
  const { retries } = options;
  let lastError: InvocationError | undefined;
  for (let n = 1; n <= retries + 1; n++) {
    try {
      return { answer: await attempt(n), attempts: n };
    } catch (error) {
      lastError =
        error instanceof InvocationError
          ? error
          : new InvocationError('Lambda.FunctionError', String((error as Error)?.message ?? error), {
              cause: error,
            });
      options.onFailure(n, lastError);
      if (n <= retries) await sleep(options.retryDelayMs?.(n) ?? defaultRetryDelay(n));
    }
  }
  return { failed: lastError! };
}

// Firehose's backoff between retries of a failed invocation is not documented; a few seconds,
// doubling, keeps a transient DynamoDB failure from exhausting the retries at once.
function defaultRetryDelay(retry: number): number {
  return Math.min(10_000, 500 * 2 ** (retry - 1));
}
