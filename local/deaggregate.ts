import { FIREHOSE_LIMITS } from '../lake/delivery.js';
// Firehose's multi-record deaggregation of JSON sub-records (RecordDeAggregation, SubRecordType
// JSON), as docs/firehose.md and docs/packing.md describe it:
//
// - a record holds consecutive JSON objects, with nothing or a newline between them
//   (`{"a":1}{"a":2}`, `{"a":1}\n{"a":2}`); an array of objects is not a valid aggregate;
// - at most 500 sub-records per record. Past that, AWS documents (PutRecordBatch API reference)
//   that the put succeeds but the record is *not* deaggregated: the transformation Lambda gets
//   the whole record as one, and Firehose logs DynamicPartitioning.DeAggregationRecordCountLimitExceeded;
// - a record that does not split cleanly (undocumented): handled the same way, passed whole.
//   Either answer is safe for Firelake: the transform quarantines the whole record as
//   invalid_json with its bytes, so nothing is lost and a replay can split it.
//
// Deaggregation runs before the transform, so the transform still sees one event per record.

export const MAX_SUB_RECORDS = FIREHOSE_LIMITS.maxSubRecordsPerRecord;

export type Deaggregation =
  | { ok: true; records: Buffer[] }
  | { ok: false; errorCode: string; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Splits a record into its JSON sub-records (each object's bytes, without the whitespace around
 * it), or says why it does not split. Every sub-record is checked as a whole JSON document
 * (strict UTF-8, JSON.parse), as Firehose parses them.
 */
export function deaggregateJson(data: Buffer): Deaggregation {
  const spans: [number, number][] = [];
  const n = data.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(data[i]!)) i++;
    if (i === n) break;
    if (data[i] !== 0x7b /* { */) {
      return malformed(`byte ${i}: expected a JSON object, found ${describe(data[i]!)}`);
    }
    const end = objectEnd(data, i);
    if (end < 0) return malformed(`byte ${i}: a JSON object that never closes`);
    spans.push([i, end]);
    if (spans.length > MAX_SUB_RECORDS) {
      return {
        ok: false,
        errorCode: 'DynamicPartitioning.DeAggregationRecordCountLimitExceeded',
        message: `Firehose did not de-aggregate the records because the count of split records exceeded limit of ${MAX_SUB_RECORDS}.`,
      };
    }
    i = end;
  }
  if (spans.length === 0) return malformed('no JSON object in the record');
  const records: Buffer[] = [];
  for (const [start, end] of spans) {
    const sub = data.subarray(start, end);
    try {
      JSON.parse(utf8.decode(sub));
    } catch (error) {
      return malformed(`sub-record at byte ${start}: ${(error as Error).message}`);
    }
    records.push(sub);
  }
  return { ok: true, records };
}

/** The index just past the `}` that closes the object opened at `start`, or -1. */
function objectEnd(data: Buffer, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < data.length; i++) {
    const b = data[i]!;
    if (inString) {
      if (b === 0x5c /* \ */) i++;
      else if (b === 0x22 /* " */) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) return b === 0x7d ? i + 1 : -1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

function describe(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

function malformed(message: string): Deaggregation {
  // Not an AWS error code: AWS does not document this case (see the header).
  return { ok: false, errorCode: 'DeAggregation.Malformed', message: `not de-aggregated: ${message}` };
}
