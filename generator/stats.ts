// The generator's ground truth (`--stats FILE`): what was sent, so the lake can be reconciled
// against it. Field names are a contract with the end-to-end tests and the quality scorecard.

/** Kinds of bad input the generator injects, and the quarantine reason each must end in. */
export const BAD_KINDS = {
  invalid_json: 'invalid_json',
  invalid_utf8: 'invalid_utf8',
  wrong_type: 'schema_violation',
  missing_field: 'schema_violation',
  unknown_event: 'unknown_event',
  future_timestamp: 'future_timestamp',
  too_old: 'too_late',
  /** Larger than Firehose's 1,000 KiB record limit: a Firehose sink refuses it before sending. */
  oversized: null,
} as const;
export type BadKind = keyof typeof BAD_KINDS;

export interface GeneratorStats {
  seed: number;
  /** First and last created_at of the simulated (or real) clock, ISO-8601. */
  start: string;
  end: string;
  /** Asked base rate, events per second. */
  rate_per_second: number;
  sink: 'firehose' | 'file' | 'stdout';
  /** Records emitted (events, one line each, bad ones included): unique + duplicates + conflicts + bad. */
  records: number;
  /** Distinct valid events (each event_uuid once, first payload), late ones included. */
  unique_events: number;
  unique_by_name: Record<string, number>;
  /** Exact resends of an earlier record (same uuid, same payload). */
  duplicates: number;
  /** Same uuid as an earlier event, different payload. */
  conflicts: number;
  bad: number;
  bad_by_kind: Record<BadKind, number>;
  /** Valid events whose created_at is hours behind the clock (inside the lake's late window). */
  late: number;
  /** Records the sink could not deliver after its retries, and oversized ones it refused. */
  undelivered: number;
  /** Records a Firehose sink resent after a per-record failure. */
  retried: number;
  /**
   * Firehose sink only: Firehose records it put (what Firehose bills, in 5 KB steps) and their
   * bytes. Packed, a record carries many events; `records` above counts events.
   */
  firehose_records?: number;
  firehose_bytes?: number;
  /** Firehose sink only: the pack size in bytes, or null when each event was its own record. */
  pack_bytes?: number | null;
}
