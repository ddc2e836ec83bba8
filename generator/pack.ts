import { FIREHOSE_LIMITS } from '../lake/delivery.js';

// Packing events into Firehose records: which lines may share a record, and how many may.

/** The default pack: Firehose's 5 KB billing step (5,120 bytes). */
export const DEFAULT_PACK_BYTES = 5 * 1024;
/** Firehose deaggregates at most 500 JSON sub-records per record (docs/firehose.md). */
export const MAX_EVENTS_PER_RECORD = FIREHOSE_LIMITS.maxSubRecordsPerRecord;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether a line can share a record: one JSON object on one line, valid UTF-8. Anything else
 * (invalid JSON or UTF-8, a bare value) would not deaggregate cleanly and would take its
 * neighbours to quarantine with it (docs/packing.md), so it travels alone.
 */
export function packable(line: string | Buffer): boolean {
  return packableObject(line) !== undefined;
}

/** The line's JSON object when it can share a record (see packable), else undefined. */
export function packableObject(line: string | Buffer): Record<string, unknown> | undefined {
  let text: string;
  if (typeof line === 'string') text = line;
  else {
    try {
      text = utf8.decode(line);
    } catch {
      return undefined;
    }
  }
  if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(text.length - 1) !== 0x7d || text.includes('\n')) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
