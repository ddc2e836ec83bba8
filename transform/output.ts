import type { FirehoseTransformationResultRecord } from 'aws-lambda';
import { splitEventName } from '../events/catalog.js';
import type { EnrichmentStatus, StagedEvent } from '../events/types.js';
import { type Dataset, isLate, type PartitionKeys, partitionKeysAt, stagingKeys } from '../lake/layout.js';
import { jsonString } from './canonical.js';

// The output side of the transform: output records, ISO times and partition keys. Events of a
// batch cluster within a few minutes, so the per-minute parts (ISO prefix, partition keys) are
// computed once per minute and reused; this runs for every record.

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Date's range: ±8.64e15 ms. */
const MAX_DATE_MS = 8.64e15;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

interface Minute {
  /** `YYYY-MM-DDTHH:MM:` */
  isoPrefix: string;
  staging?: RecordMetadata;
  quarantine?: RecordMetadata;
}

/** An output record's metadata: read only, one object shared by the records of a minute. */
export interface RecordMetadata {
  partitionKeys: PartitionKeys;
}

/** ISO-8601 times and partition keys, cached per minute. One per batch. */
export class TimeFormat {
  private readonly minutes = new Map<number, Minute>();
  /** Late shelves' metadata by UTC day number. */
  private readonly shelves = new Map<number, RecordMetadata>();
  /** The minute asked last: a batch's times mostly follow one another. */
  private last: { m: number; entry: Minute } = { m: Number.NaN, entry: { isoPrefix: '' } };

  private minute(ms: number): Minute {
    const m = Math.floor(ms / MINUTE_MS);
    if (m === this.last.m) return this.last.entry;
    let entry = this.minutes.get(m);
    if (!entry) {
      entry = { isoPrefix: new Date(m * MINUTE_MS).toISOString().slice(0, -7) };
      this.minutes.set(m, entry);
    }
    this.last = { m, entry };
    return entry;
  }

  /** As Date#toISOString (ms truncated), or null for what a Date cannot hold. */
  iso(epochMs: number | null): string | null {
    if (epochMs === null || !Number.isFinite(epochMs) || Math.abs(epochMs) > MAX_DATE_MS) return null;
    const ms = Math.trunc(epochMs);
    const rest = ms - Math.floor(ms / MINUTE_MS) * MINUTE_MS;
    const seconds = Math.floor(rest / 1000);
    return `${this.minute(ms).isoPrefix}${PAD2[seconds]}.${PAD3[rest - seconds * 1000]}Z`;
  }

  /** lake/layout.ts partitionKeysAt, once per dataset and minute. */
  partitionKeys(dataset: Dataset, epochMs: number): PartitionKeys {
    return this.metadata(dataset, epochMs).partitionKeys;
  }

  /** A staged event's metadata: its minute's, or its day's late shelf (lake/layout.ts stagingKeys). */
  stagingMetadata(createdAtMs: number, arrivalMs: number): RecordMetadata {
    if (!isLate(createdAtMs, arrivalMs)) return this.metadata('staging', createdAtMs);
    const day = Math.floor(createdAtMs / DAY_MS);
    let shelf = this.shelves.get(day);
    if (!shelf) {
      shelf = { partitionKeys: stagingKeys(createdAtMs, arrivalMs) };
      this.shelves.set(day, shelf);
    }
    return shelf;
  }

  /** An output record's metadata (its partition keys), one object per dataset and minute. */
  metadata(dataset: Dataset, epochMs: number): RecordMetadata {
    const entry = this.minute(Math.trunc(epochMs));
    let metadata = entry[dataset];
    if (!metadata) {
      metadata = { partitionKeys: partitionKeysAt(dataset, epochMs) };
      entry[dataset] = metadata;
    }
    return metadata;
  }
}

const nameParts = new Map<string, { type: string; subtype: string; prefix: string }>();

/** The parts of a StagedEvent line that are not in its specifics text. */
export interface StagedFields {
  event_uuid: string;
  event_name: string;
  created_at: string;
  received_at: string;
  user_uuid: string | null;
  language: string | null;
  subscription_status: string | null;
  subscription_type: string | null;
  country: string | null;
  enrichment_status: EnrichmentStatus | null;
  /** The extras object as JSON text (transform/decode.ts extrasOf), or null. */
  extras: string | null;
  /** Replayed records only (transform/replay-tag.ts); null leaves the line as it was. */
  replayed_from: string | null;
}

const nullable = (s: string | null) => (s === null ? 'null' : jsonString(s));

/**
 * The staging line (events/types.ts StagedEvent) as JSON text, fields in the StagedEvent order,
 * around the specifics text the decoder already made: one string, no intermediate object.
 */
export function stagedLineJson(f: StagedFields, specificsJson: string): string {
  const json = liveLineJson(f, specificsJson);
  // Live lines stay byte for byte as they were; a replayed line ends with its origin.
  return f.replayed_from === null
    ? json
    : `${json.slice(0, -1)},"replayed_from":${jsonString(f.replayed_from)}}`;
}

function liveLineJson(f: StagedFields, specificsJson: string): string {
  let name = nameParts.get(f.event_name);
  if (!name) {
    const { type, subtype } = splitEventName(f.event_name);
    name = {
      type,
      subtype,
      prefix: `"event_name":${jsonString(f.event_name)},"event_type":${jsonString(type)},"event_subtype":${jsonString(subtype)}`,
    };
    nameParts.set(f.event_name, name);
  }
  const head =
    `{"event_uuid":${jsonString(f.event_uuid)},${name.prefix},"created_at":"${f.created_at}",` +
    `"received_at":"${f.received_at}","user_uuid":${nullable(f.user_uuid)},"language":${nullable(f.language)},` +
    `"event_specifics":${specificsJson}`;
  // Events that are not enriched (most) end the same way: one constant tail.
  const tail = f.extras === null ? '}' : `,"extras":${f.extras}}`;
  if (
    f.subscription_status === null &&
    f.subscription_type === null &&
    f.country === null &&
    f.enrichment_status === null
  ) {
    return head + NOT_ENRICHED + tail;
  }
  return (
    `${head},"subscription_status":${nullable(f.subscription_status)},` +
    `"subscription_type":${nullable(f.subscription_type)},"country":${nullable(f.country)},` +
    `"enrichment_status":${nullable(f.enrichment_status)}${tail}`
  );
}

const NOT_ENRICHED =
  ',"subscription_status":null,"subscription_type":null,"country":null,"enrichment_status":null';

/** Compile-time check that the line builder covers StagedEvent exactly. */
type Covered = keyof StagedFields | 'event_type' | 'event_subtype' | 'event_specifics';
const _exhaustive: [Exclude<keyof StagedEvent, Covered>, Exclude<Covered, keyof StagedEvent>] extends [
  never,
  never,
]
  ? true
  : never = true;
void _exhaustive;

/** Lines are encoded here, one after the other: no buffer nor '\n'-terminated copy per record. */
const scratch = Buffer.allocUnsafe(256 * 1024);
const NEWLINE = 0x0a;

/** The line plus '\n' (Firehose adds no delimiter), as UTF-8 in base64. */
function encodeLine(json: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; a longer line takes the allocating path.
  if (json.length * 3 + 1 > scratch.length) return Buffer.from(`${json}\n`).toString('base64');
  const n = scratch.write(json, 0, 'utf8');
  scratch[n] = NEWLINE;
  return scratch.toString('base64', 0, n + 1);
}

/** An `Ok` output record: the line plus '\n' (Firehose adds no delimiter), base64. */
export function okRecord(
  recordId: string,
  json: string,
  metadata: RecordMetadata,
): FirehoseTransformationResultRecord {
  return { recordId, result: 'Ok', data: encodeLine(json), metadata };
}
