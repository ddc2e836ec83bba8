import type { InputRecord } from './records.js';

// A record Firehose could not process or partition, as it writes it under the error prefix.

export interface Failure {
  attemptsMade: number;
  errorCode: string;
  errorMessage: string;
  attemptEndingTimestamp: number;
}

/** The documented fields of a processing-failed record (docs/firehose.md), one JSON line. */
export function failedRecordLine(record: InputRecord, failure: Failure, lambdaArn: string): Buffer {
  return Buffer.from(
    `${JSON.stringify({
      attemptsMade: failure.attemptsMade,
      arrivalTimestamp: record.arrivalMs,
      errorCode: failure.errorCode,
      errorMessage: failure.errorMessage,
      attemptEndingTimestamp: failure.attemptEndingTimestamp,
      rawData: record.data.toString('base64'),
      lambdaArn,
    })}\n`,
  );
}

/** The error prefix must name the error output type, and cannot use the transform's keys. */
export function checkErrorPrefix(errorPrefix: string): void {
  if (!errorPrefix.includes('!{firehose:error-output-type}')) {
    throw new Error('the error prefix must contain !{firehose:error-output-type}');
  }
  if (errorPrefix.includes('!{partitionKeyFromLambda:')) {
    throw new Error('the error prefix cannot use the partitionKeyFromLambda namespace');
  }
}
