// The lake layout of docs/design.md, defined once: prefixes, partition keys, the Firehose prefix
// expressions and key builders/parsers. The transform, the local Firehose, compaction, SQL and
// the CDK stack all import from here.

export const PREFIX = {
  staging: 'staging/',
  quarantine: 'quarantine/',
  errors: 'errors/',
  /** Everything compaction owns: the Parquet and the manifests. */
  curated: 'curated/',
  curatedEvents: 'curated/events/',
  /** The curated Iceberg table's metadata (iceberg/). */
  curatedMetadata: 'curated/events/metadata/',
  /** Day manifests of a lake compacted before curated was an Iceberg table (compaction/legacy.ts). */
  manifests: 'curated/_manifests/',
} as const;

export type Dataset = 'staging' | 'quarantine';

/** Partition keys the transform returns in `metadata.partitionKeys`, in prefix order. */
export const PARTITION_KEYS = ['dataset', 'year', 'month', 'day', 'hour', 'minute'] as const;
export type PartitionKeys = Record<(typeof PARTITION_KEYS)[number], string>;

/** Firehose S3 prefix with dynamic partitioning (keys from the Lambda). */
export const FIREHOSE_PREFIX =
  '!{partitionKeyFromLambda:dataset}/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/' +
  'day=!{partitionKeyFromLambda:day}/hour=!{partitionKeyFromLambda:hour}/minute=!{partitionKeyFromLambda:minute}/';

/** Firehose error prefix: no partition-key namespace allowed; arrival time of the oldest record. */
export const FIREHOSE_ERROR_PREFIX =
  'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Partition keys for a dataset at a UTC instant (event time for staging, arrival for quarantine). */
export function partitionKeysAt(dataset: Dataset, epochMs: number): PartitionKeys {
  const d = new Date(epochMs);
  return {
    dataset,
    year: pad(d.getUTCFullYear(), 4),
    month: pad(d.getUTCMonth() + 1),
    day: pad(d.getUTCDate()),
    hour: pad(d.getUTCHours()),
    minute: pad(d.getUTCMinutes()),
  };
}

/**
 * An event that reaches the transform more than this long after its created_at is late: it is
 * staged on its day's late shelf instead of its minute. Late events (an app's offline queue,
 * hours or days behind) each opened a minute partition of their own, so an S3 object of their
 * own in every buffer: at 1M events/h with 1% late, 71 of 74 objects per 60 s buffer and $0.11
 * of the $0.45 per million events (`firelake cost --late-share 0.01`). On the shelf a buffer
 * writes one object per late day instead. An hour keeps the minute partitions exact for
 * everything a fresh-data query asks about; Firehose buffers at most 900 s.
 */
export const LATE_AFTER_MS = 3_600_000;

/**
 * A day's late shelf: `hour=24/minute=00`, the end of the day, after its 1,440 minutes. Numeric,
 * so Hive-style readers keep `hour` and `minute` integers, and it sorts after 23:59.
 */
export const LATE_SHELF = { hour: '24', minute: '00' } as const;

/**
 * Partition keys of a staged event: its created_at's minute, or its day's late shelf when it
 * arrived more than LATE_AFTER_MS after it. Both instants belong to the record, so every staged
 * copy of an event (a Firehose retry, a redelivery from the local write-ahead log) gets the same
 * keys: compaction's units rely on it (compaction/plan.ts).
 */
export function stagingKeys(createdAtMs: number, arrivalMs: number): PartitionKeys {
  const keys = partitionKeysAt('staging', createdAtMs);
  return isLate(createdAtMs, arrivalMs) ? { ...keys, ...LATE_SHELF } : keys;
}

export function isLate(createdAtMs: number, arrivalMs: number): boolean {
  return arrivalMs - createdAtMs > LATE_AFTER_MS;
}

/** A UTC day, `YYYY-MM-DD`. */
export type Day = string;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses and checks a `YYYY-MM-DD` UTC day; throws with a clear message otherwise. */
export function parseDay(text: string): { year: string; month: string; day: string; startMs: number } {
  const m = DAY_RE.exec(text);
  const startMs = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(startMs) || new Date(startMs).toISOString().slice(0, 10) !== text) {
    throw new Error(`"${text}" is not a UTC day: expected YYYY-MM-DD, e.g. 2026-11-20`);
  }
  return { year: m[1]!, month: m[2]!, day: m[3]!, startMs };
}

export function dayOf(epochMs: number): Day {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Prefix of one day of a minute-partitioned dataset (staging or quarantine). */
export function dayPrefix(dataset: Dataset, day: Day): string {
  const { year, month, day: dd } = parseDay(day);
  return `${dataset}/year=${year}/month=${month}/day=${dd}/`;
}

/** Prefix of one hour of a minute-partitioned dataset (24: staging's late shelf). */
export function hourPrefix(dataset: Dataset, day: Day, hour: number): string {
  return `${dayPrefix(dataset, day)}hour=${pad(hour)}/`;
}

/** Prefix of the processing-failed objects of a day (arrival time). */
export function errorsDayPrefix(day: Day, outputType = 'processing-failed'): string {
  const { year, month, day: dd } = parseDay(day);
  return `${PREFIX.errors}${outputType}/year=${year}/month=${month}/day=${dd}/`;
}

/** Prefix of the curated Parquet of one day (all languages). */
export function curatedDayPrefix(day: Day): string {
  const { year, month, day: dd } = parseDay(day);
  return `${PREFIX.curatedEvents}year=${year}/month=${month}/day=${dd}/`;
}

/** Key of a curated Parquet file: `<run>-<n>.parquet` under the day and language. */
export function curatedFileKey(day: Day, language: string, runId: string, n: number): string {
  return `${curatedDayPrefix(day)}language=${language}/${runId}-${n}.parquet`;
}

const HIVE_RE = /(?:^|\/)(year|month|day|hour|minute|language)=([^/]+)/g;

/** Reads the Hive-style partition values out of a key (`year=2026/month=11/...`). */
export function parsePartitions(
  key: string,
): Partial<Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'language', string>> {
  const out: Record<string, string> = {};
  for (const m of key.matchAll(HIVE_RE)) out[m[1]!] = m[2]!;
  return out;
}

/** The dataset a lake key belongs to, by its first prefix. */
export function datasetOfKey(key: string): 'staging' | 'quarantine' | 'errors' | 'curated' | null {
  if (key.startsWith(PREFIX.staging)) return 'staging';
  if (key.startsWith(PREFIX.quarantine)) return 'quarantine';
  if (key.startsWith(PREFIX.errors)) return 'errors';
  if (key.startsWith(PREFIX.curated)) return 'curated';
  return null;
}

/** Run records of `firelake replay` (replay/), by the day the run started. */
export const REPLAYS_PREFIX = 'replays/';

export function replaysDayPrefix(day: Day): string {
  const { year, month, day: dd } = parseDay(day);
  return `${REPLAYS_PREFIX}runs/year=${year}/month=${month}/day=${dd}/`;
}

/** Days a replay staged events in and left for the nightly compaction (one empty object per day). */
export const PENDING_COMPACTION_PREFIX = `${REPLAYS_PREFIX}pending-compaction/`;
