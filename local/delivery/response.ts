import { FIREHOSE_LIMITS } from '../../lake/delivery.js';
import { InvocationError } from './invocation-error.js';

// What Firehose accepts as a processor's answer (docs/firehose.md): anything else fails the
// whole invocation with Firehose's error code.

const RESULTS = new Set(['Ok', 'Dropped', 'ProcessingFailed']);
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export interface ResultRecord {
  recordId: string;
  result: 'Ok' | 'Dropped' | 'ProcessingFailed';
  data?: string;
  metadata?: { partitionKeys?: Record<string, string> };
}

/**
 * Checks a transform answer as Firehose does: it must be JSON of the documented shape, within
 * 6 MB, and return every input recordId exactly once; otherwise the whole invocation fails.
 */
export function checkResponse(
  input: readonly { recordId: string }[],
  raw: unknown,
): Map<string, ResultRecord> {
  // Through JSON, as the Lambda wire does: what cannot be serialised is unparsable.
  let text: string | undefined;
  try {
    text = JSON.stringify(raw);
  } catch (error) {
    throw new InvocationError('Lambda.JsonProcessingException', 'the response is not JSON', { cause: error });
  }
  if (text === undefined)
    throw new InvocationError('Lambda.JsonProcessingException', 'the response is empty');
  if (Buffer.byteLength(text) > FIREHOSE_LIMITS.maxInvocationBytes) {
    throw new InvocationError(
      'Lambda.FunctionError',
      `Response payload size exceeded maximum allowed payload size (${FIREHOSE_LIMITS.maxInvocationBytes} bytes).`,
    );
  }
  const parsed = JSON.parse(text) as { records?: unknown };
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.records)) {
    throw new InvocationError('Lambda.JsonProcessingException', 'the response has no "records" array');
  }
  const expected = new Set(input.map((r) => r.recordId));
  const results = new Map<string, ResultRecord>();
  for (const item of parsed.records as unknown[]) {
    const r = item as Partial<ResultRecord> | null;
    if (typeof r !== 'object' || r === null || typeof r.recordId !== 'string') {
      throw new InvocationError('Lambda.JsonProcessingException', 'a response record has no recordId string');
    }
    if (typeof r.result !== 'string' || !RESULTS.has(r.result)) {
      throw new InvocationError(
        'Lambda.JsonProcessingException',
        `record ${r.recordId}: result must be Ok, Dropped or ProcessingFailed, got ${JSON.stringify(r.result)}`,
      );
    }
    if (
      r.result === 'Ok' &&
      (typeof r.data !== 'string' || r.data.length % 4 !== 0 || !BASE64_RE.test(r.data))
    ) {
      throw new InvocationError('Lambda.JsonProcessingException', `record ${r.recordId}: data is not base64`);
    }
    const keys = r.metadata?.partitionKeys;
    if (
      keys !== undefined &&
      (typeof keys !== 'object' || keys === null || Object.values(keys).some((v) => typeof v !== 'string'))
    ) {
      throw new InvocationError(
        'Lambda.JsonProcessingException',
        `record ${r.recordId}: metadata.partitionKeys must map names to strings`,
      );
    }
    if (results.has(r.recordId)) {
      throw new InvocationError(
        'Lambda.DuplicatedRecordId',
        `The Lambda function returned record ID ${r.recordId} more than once.`,
      );
    }
    if (!expected.has(r.recordId)) {
      throw new InvocationError(
        'Lambda.MissingRecordId',
        `The Lambda function returned record ID ${r.recordId}, which is not in the invocation.`,
      );
    }
    results.set(r.recordId, r as ResultRecord);
  }
  for (const id of expected) {
    if (!results.has(id)) {
      throw new InvocationError(
        'Lambda.MissingRecordId',
        `The Lambda function did not return record ID ${id}.`,
      );
    }
  }
  return results;
}
