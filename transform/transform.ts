import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';
import { splitEventName } from '../events/catalog.js';
import type { QuarantineReason, QuarantineRecord, StagedEvent } from '../events/types.js';
import type { Violation } from '../events/validate.js';
import { type Dataset, type PartitionKeys, partitionKeysAt } from '../lake/layout.js';
import { DEFAULT_DYNAMO_CONCURRENCY, DEFAULT_MAX_FUTURE_SKEW_MS, type TransformConfig } from './config.js';
import { type DecodedEvent, decodeRecord } from './decode.js';
import { type DedupCandidate, type DedupOutcome, deduplicate } from './dedup.js';
import { Dynamo, type DynamoSender } from './dynamo.js';
import { type BatchCounts, emptyCounts, type MetricsSink, type TransformLogger } from './metrics.js';
import { withoutPersonal } from './scrub.js';
import { applyState, readState, type StateChange, StateOverlay } from './state.js';

export interface TransformDeps {
  /** A DynamoDBClient (aws/clients.ts), or anything with its `send`. */
  dynamodb: DynamoSender;
  config: TransformConfig;
  /** Clock, epoch ms (dedup window). */
  now?: () => number;
  /** Where each invocation's counts go; none by default (silent). */
  metrics?: MetricsSink;
  logger?: TransformLogger;
}

export type Transform = (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult>;

/** The transformation as a function of a Firehose event: what the Lambda handler and the local Firehose call. */
export function createTransform(deps: TransformDeps): Transform {
  return async (event) => {
    const { result, counts } = await transformBatch(event, deps);
    deps.metrics?.publish(counts);
    return result;
  };
}

const DAY_MS = 86_400_000;

/** A record that decoded and passed the time checks: a candidate for staging. */
interface Candidate extends DedupCandidate {
  index: number;
  decoded: DecodedEvent;
  userUuid: string | null;
  language: string | null;
}

/**
 * One Firehose batch: decode and validate, time checks, dedup, state, enrichment, output. Every
 * recordId comes back exactly once, in input order. Throws DynamoUnavailableError when DynamoDB
 * is down after the SDK's retries, so that Firehose retries the batch (dedup keeps it safe).
 */
export async function transformBatch(
  event: FirehoseTransformationEvent,
  deps: TransformDeps,
): Promise<{ result: FirehoseTransformationResult; counts: BatchCounts }> {
  const { config } = deps;
  const nowMs = (deps.now ?? Date.now)();
  const dynamo = new Dynamo(deps.dynamodb, config.dynamoConcurrency ?? DEFAULT_DYNAMO_CONCURRENCY);
  const maxSkew = config.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const lateMs = config.lateWindowDays * DAY_MS;
  const records = event.records ?? [];
  const counts = emptyCounts();
  counts.records = records.length;
  const out = new Array<FirehoseTransformationResultRecord>(records.length);
  const partitions = new PartitionCache();

  const quarantine = (
    i: number,
    arrivalMs: number,
    q: Omit<QuarantineRecord, 'received_at' | 'record_id'>,
  ) => {
    const rec = records[i]!;
    counts.quarantined[q.reason]++;
    const line: QuarantineRecord = {
      reason: q.reason,
      received_at: iso(arrivalMs)!,
      record_id: rec.recordId,
      event_uuid: q.event_uuid,
      event_name: q.event_name,
      created_at: q.created_at,
      errors: q.errors,
      payload: q.payload,
      payload_base64: q.payload_base64,
      first_record_id: q.first_record_id,
    };
    out[i] = ok(rec.recordId, line, partitions.get('quarantine', arrivalMs));
  };

  // 1-2. Decode, validate, time checks.
  const candidates: Candidate[] = [];
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (typeof rec.data !== 'string') {
      // Nothing to wrap: Firehose's processing-failed output keeps whatever it had.
      counts.processingFailed++;
      out[i] = { recordId: rec.recordId, result: 'ProcessingFailed', data: '' };
      continue;
    }
    const arrivalMs = arrivalOf(rec, nowMs);
    const decoded = decodeRecord(rec.data);
    if (!decoded.ok) {
      quarantine(i, arrivalMs, {
        reason: decoded.reason,
        event_uuid: decoded.eventUuid,
        event_name: decoded.eventName,
        created_at: iso(decoded.createdAtMs),
        errors: decoded.errors,
        payload: decoded.payload,
        payload_base64: decoded.payloadBase64,
        first_record_id: null,
      });
      continue;
    }
    const timeError = checkTime(decoded.createdAtMs, arrivalMs, maxSkew, lateMs, config.lateWindowDays);
    if (timeError) {
      quarantine(i, arrivalMs, fullRecord(decoded, timeError.reason, [timeError.violation], null));
      continue;
    }
    const specifics = decoded.event.event_specifics as Record<string, unknown>;
    const { userField, languageField } = decoded.definition;
    candidates.push({
      index: i,
      recordId: rec.recordId,
      arrivalMs,
      deliveryKey: deliveryKeyOf(rec, arrivalMs),
      uuid: decoded.event.event_uuid,
      fingerprint: decoded.fingerprint,
      decoded,
      userUuid: userField ? stringOrNull(specifics[userField]) : null,
      language: languageField ? stringOrNull(specifics[languageField]) : null,
    });
  }

  // 3. Dedup, and meanwhile read the state the lessons need (before this batch's state writes,
  // so the overlay below gives each lesson the state as of its position).
  const lessonKeys = candidates
    .filter((c) => c.decoded.definition.role === 'lesson' && c.userUuid && c.language)
    .map((c) => ({ userUuid: c.userUuid!, language: c.language! }));
  const [dedupDone, readDone] = await Promise.allSettled([
    deduplicate(dynamo, candidates, {
      table: config.tables.dedup,
      nowMs,
      ttlHours: config.dedupTtlHours,
    }),
    readState(dynamo, config.tables, lessonKeys),
  ]);
  if (dedupDone.status === 'rejected') throw dedupDone.reason;
  if (readDone.status === 'rejected') throw readDone.reason;
  const outcomes: DedupOutcome[] = dedupDone.value;

  // 4. Apply state events that are staged, in batch order.
  const staged: { candidate: Candidate; change: StateChange | null }[] = [];
  const changes: StateChange[] = [];
  candidates.forEach((c, n) => {
    const outcome = outcomes[n]!;
    if (outcome.kind !== 'new') {
      const reason: QuarantineReason = outcome.kind;
      if (reason === 'duplicate') {
        // A thin tombstone: enough to count duplicates from the lake and find the kept record.
        quarantine(c.index, c.arrivalMs, {
          reason,
          event_uuid: c.uuid,
          event_name: c.decoded.event.event_name,
          created_at: iso(c.decoded.createdAtMs),
          errors: [],
          payload: null,
          payload_base64: null,
          first_record_id: outcome.firstRecordId,
        });
      } else {
        const violation = {
          path: '/event_uuid',
          message: `event_uuid already used by record ${outcome.firstRecordId} with a different payload`,
        };
        quarantine(c.index, c.arrivalMs, fullRecord(c.decoded, reason, [violation], outcome.firstRecordId));
      }
      return;
    }
    const change = stateChangeOf(c);
    if (change) changes.push(change);
    staged.push({ candidate: c, change });
  });
  const applied = await applyState(dynamo, config.tables, changes);
  counts.stateWrites = applied.written;
  counts.staleStateWrites = applied.stale;

  // 5-6. Enrich lessons with the state as of their position, emit staging lines.
  const overlay = new StateOverlay(readDone.value);
  for (const { candidate: c, change } of staged) {
    if (change) overlay.change(change);
    const { event, definition, createdAtMs } = c.decoded;
    const { type, subtype } = splitEventName(event.event_name);
    const line: StagedEvent = {
      event_uuid: event.event_uuid,
      event_name: event.event_name,
      event_type: type,
      event_subtype: subtype,
      created_at: iso(createdAtMs)!,
      received_at: iso(c.arrivalMs)!,
      user_uuid: c.userUuid,
      language: c.language,
      event_specifics: withoutPersonal(event.event_specifics as Record<string, unknown>),
      subscription_status: null,
      subscription_type: null,
      country: null,
      enrichment_status: null,
    };
    if (definition.role === 'lesson') {
      counts.lessons++;
      const e = overlay.enrich(c.userUuid ?? '', c.language ?? '');
      line.subscription_status = e.subscription_status;
      line.subscription_type = e.subscription_type;
      line.country = e.country;
      line.enrichment_status = e.enrichment_status;
      if (e.enrichment_status !== 'complete') counts.enrichmentMisses++;
    }
    counts.staged++;
    out[c.index] = ok(c.recordId, line, partitions.get('staging', createdAtMs));
  }

  counts.duplicates = counts.quarantined.duplicate;
  counts.conflicts = counts.quarantined.uuid_conflict;
  counts.dynamodbReads = dynamo.calls.reads;
  counts.dynamodbWrites = dynamo.calls.writes;
  deps.logger?.info('batch transformed', {
    invocationId: event.invocationId,
    ...flatCounts(counts),
  });
  return { result: { records: out }, counts };
}

function ok(
  recordId: string,
  line: unknown,
  partitionKeys: PartitionKeys,
): FirehoseTransformationResultRecord {
  return {
    recordId,
    result: 'Ok',
    data: Buffer.from(`${JSON.stringify(line)}\n`).toString('base64'),
    metadata: { partitionKeys },
  };
}

/** A quarantine line that keeps the whole (scrubbed) payload, for records that parsed. */
function fullRecord(
  d: DecodedEvent,
  reason: QuarantineReason,
  errors: Violation[],
  firstRecordId: string | null,
): Omit<QuarantineRecord, 'received_at' | 'record_id'> {
  return {
    reason,
    event_uuid: d.event.event_uuid,
    event_name: d.event.event_name,
    created_at: iso(d.createdAtMs),
    errors,
    payload: JSON.stringify(withoutPersonal(d.event)),
    payload_base64: null,
    first_record_id: firstRecordId,
  };
}

function checkTime(
  createdAtMs: number,
  arrivalMs: number,
  maxSkew: number,
  lateMs: number,
  lateDays: number,
) {
  if (createdAtMs > arrivalMs + maxSkew) {
    return {
      reason: 'future_timestamp' as const,
      violation: {
        path: '/created_at',
        message: `${Math.round((createdAtMs - arrivalMs) / 1000)} s ahead of arrival (more than ${maxSkew / 1000} s)`,
      },
    };
  }
  if (createdAtMs < arrivalMs - lateMs) {
    return {
      reason: 'too_late' as const,
      violation: {
        path: '/created_at',
        message: `older than the late window of ${lateDays} days before arrival`,
      },
    };
  }
  return null;
}

function stateChangeOf(c: Candidate): StateChange | null {
  const { event, definition, createdAtMs } = c.decoded;
  const s = event.event_specifics as Record<string, unknown>;
  const version = { atMs: createdAtMs, uuid: event.event_uuid };
  if (definition.role === 'user' && c.userUuid) {
    return {
      kind: 'user',
      userUuid: c.userUuid,
      state: { version, country: String(s.country), active: s.active === true },
    };
  }
  if (definition.role === 'subscription' && c.userUuid && c.language) {
    return {
      kind: 'subscription',
      userUuid: c.userUuid,
      language: c.language,
      state: {
        version,
        status: String(s.subscription_status),
        type: String(s.subscription_type),
        period: Number(s.subscription_period),
      },
    };
  }
  return null;
}

function arrivalOf(rec: FirehoseTransformationEventRecord, nowMs: number): number {
  const t = rec.approximateArrivalTimestamp;
  return typeof t === 'number' && Number.isFinite(t) ? t : nowMs;
}

/** What identifies this record on every retry of the batch (see transform/dedup.ts). */
function deliveryKeyOf(rec: FirehoseTransformationEventRecord, arrivalMs: number): string {
  const k = rec.kinesisRecordMetadata;
  return k ? `k:${k.shardId}:${k.sequenceNumber}:${k.subsequenceNumber}` : `a:${arrivalMs}`;
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** ISO-8601 UTC with ms, or null for times a Date cannot hold. */
function iso(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
}

/** Partition keys per minute, computed once per minute per batch (events cluster in time). */
class PartitionCache {
  private readonly cache = new Map<number, PartitionKeys>();
  get(dataset: Dataset, epochMs: number): PartitionKeys {
    const minute = Math.floor(epochMs / 60_000) * 2 + (dataset === 'staging' ? 0 : 1);
    let keys = this.cache.get(minute);
    if (!keys) {
      keys = partitionKeysAt(dataset, epochMs);
      this.cache.set(minute, keys);
    }
    return keys;
  }
}

function flatCounts(c: BatchCounts): Record<string, number> {
  const { quarantined, ...rest } = c;
  const flat: Record<string, number> = { ...rest };
  for (const [reason, n] of Object.entries(quarantined)) if (n > 0) flat[`quarantined_${reason}`] = n;
  return flat;
}
