import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';
import type { QuarantineReason, QuarantineRecord } from '../events/types.js';
import type { Violation } from '../events/validate.js';
import { DEFAULT_DYNAMO_CONCURRENCY, DEFAULT_MAX_FUTURE_SKEW_MS, type TransformConfig } from './config.js';
import { type DecodedEvent, decodeRecord, payloadOf } from './decode.js';
import { type DedupCandidate, deduplicate } from './dedup.js';
import { Dynamo, type DynamoSender } from './dynamo.js';
import { type BatchCounts, emptyCounts, type MetricsSink, type TransformLogger } from './metrics.js';
import { okRecord, type StagedFields, stagedLineJson, TimeFormat } from './output.js';
import { applyState, readState, type StateChange, StateOverlay } from './state.js';

export interface TransformDeps {
  /** A DynamoDBClient (aws/dynamodb.ts), or anything with its `send`. */
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
  event: DecodedEvent;
}

type QuarantineFields = Omit<QuarantineRecord, 'received_at' | 'record_id'>;

/**
 * One Firehose batch: decode and validate, time checks, dedup, state, enrichment, output. Every
 * recordId comes back exactly once, in input order. Throws DynamoUnavailableError when DynamoDB
 * is down after the SDK's retries, or DedupConsistencyError when dedup markers do not settle,
 * so that Firehose retries the batch (dedup keeps it safe).
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
  const time = new TimeFormat();
  const iso = (ms: number | null) => time.iso(ms);

  const quarantine = (i: number, arrivalMs: number, q: QuarantineFields) => {
    const recordId = records[i]!.recordId;
    counts.quarantined[q.reason]++;
    const line: QuarantineRecord = {
      reason: q.reason,
      received_at: iso(arrivalMs)!,
      record_id: recordId,
      event_uuid: q.event_uuid,
      event_name: q.event_name,
      created_at: q.created_at,
      errors: q.errors,
      payload: q.payload,
      payload_base64: q.payload_base64,
      first_record_id: q.first_record_id,
      replayed_from: q.replayed_from, // undefined on live records: not written
    };
    out[i] = okRecord(recordId, JSON.stringify(line), time.metadata('quarantine', arrivalMs));
  };
  /** A quarantine line that keeps the whole (scrubbed) payload, for a record that parsed. */
  const withPayload = (
    c: { index: number; event: DecodedEvent },
    reason: QuarantineReason,
    errors: Violation[],
    firstRecordId: string | null,
  ): QuarantineFields => ({
    reason,
    event_uuid: c.event.uuid,
    event_name: c.event.name,
    created_at: iso(c.event.createdAtMs),
    errors,
    payload: payloadOf(records[c.index]!.data),
    payload_base64: null,
    first_record_id: firstRecordId,
    replayed_from: c.event.replay?.from,
  });

  // 1-2. Decode, validate, time checks.
  const candidates: Candidate[] = [];
  // What the batch holds, whatever its recordIds and order: part of every marker's delivery key.
  const contents = new BatchDigest();
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
    contents.add(arrivalMs, decoded.ok ? decoded.fingerprint : undefined, rec.data.length);
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
        replayed_from: decoded.replay?.from,
      });
      continue;
    }
    const timeError = checkTime(decoded.createdAtMs, arrivalMs, maxSkew, lateMs, config.lateWindowDays);
    // `firelake replay --allow-late` brings back events older than the late window.
    if (timeError && !(timeError.reason === 'too_late' && decoded.replay?.allowLate)) {
      quarantine(
        i,
        arrivalMs,
        withPayload({ index: i, event: decoded }, timeError.reason, [timeError.violation], null),
      );
      continue;
    }
    // Written in the dedup marker, and the delivery key of a Direct PUT record: converted once.
    const arrivalText = String(arrivalMs);
    candidates.push({
      index: i,
      recordId: rec.recordId,
      arrivalMs,
      arrivalText,
      deliveryKey: deliveryKeyOf(rec, arrivalText), // its batch's digest is appended below
      uuid: decoded.uuid,
      fingerprint: decoded.fingerprint,
      takeoverArrivalMs: decoded.replay?.originalArrivalMs ?? undefined,
      event: decoded,
    });
  }

  if (candidates.length > 0) {
    const batchKey = contents.text();
    for (const c of candidates) c.deliveryKey += `@${batchKey}`;
  }

  // 3. Dedup, and meanwhile read the state the lessons need (before this batch's state writes,
  // so the overlay below gives each lesson the state as of its position).
  const lessonKeys: { userUuid: string; language: string }[] = [];
  for (const { event: e } of candidates) {
    if (e.definition.role === 'lesson' && e.userUuid && e.language) {
      lessonKeys.push({ userUuid: e.userUuid, language: e.language });
    }
  }
  const [dedupDone, readDone] = await Promise.allSettled([
    deduplicate(dynamo, candidates, { table: config.tables.dedup, nowMs, ttlHours: config.dedupTtlHours }),
    readState(dynamo, config.tables, lessonKeys),
  ]);
  // Both settle before either error is thrown: no DynamoDB call outlives the invocation.
  if (dedupDone.status === 'rejected') throw dedupDone.reason;
  if (readDone.status === 'rejected') throw readDone.reason;
  const outcomes = dedupDone.value;

  // 4. Apply the state events that are staged, in batch order.
  const staged: Candidate[] = [];
  const changes: StateChange[] = [];
  for (let n = 0; n < candidates.length; n++) {
    const c = candidates[n]!;
    const outcome = outcomes[n]!;
    if (outcome.kind === 'duplicate') {
      // A thin tombstone: enough to count duplicates from the lake and find the kept record.
      quarantine(c.index, c.arrivalMs, {
        reason: 'duplicate',
        event_uuid: c.uuid,
        event_name: c.event.name,
        created_at: iso(c.event.createdAtMs),
        errors: [],
        payload: null,
        payload_base64: null,
        first_record_id: outcome.firstRecordId,
        replayed_from: c.event.replay?.from,
      });
    } else if (outcome.kind === 'uuid_conflict') {
      const violation = {
        path: '/event_uuid',
        message: `event_uuid already used by record ${outcome.firstRecordId} with a different payload`,
      };
      quarantine(c.index, c.arrivalMs, withPayload(c, 'uuid_conflict', [violation], outcome.firstRecordId));
    } else {
      if (c.event.state) changes.push(c.event.state);
      staged.push(c);
    }
  }
  const applied = await applyState(dynamo, config.tables, changes);
  counts.stateWrites = applied.written;
  counts.staleStateWrites = applied.stale;

  // 5-6. Enrich lessons with the state as of their position, emit staging lines.
  const overlay = new StateOverlay(readDone.value);
  // One fields object for every line: stagedLineJson reads it at once and keeps nothing.
  const line: StagedFields = {
    event_uuid: '',
    event_name: '',
    created_at: '',
    received_at: '',
    user_uuid: null,
    language: null,
    subscription_status: null,
    subscription_type: null,
    country: null,
    enrichment_status: null,
    extras: null,
    replayed_from: null,
  };
  for (const c of staged) {
    const e = c.event;
    if (e.state) overlay.change(e.state);
    line.event_uuid = e.uuid;
    line.event_name = e.name;
    line.created_at = iso(e.createdAtMs)!;
    line.received_at = iso(c.arrivalMs)!;
    line.user_uuid = e.userUuid;
    line.language = e.language;
    line.subscription_status = null;
    line.subscription_type = null;
    line.country = null;
    line.enrichment_status = null;
    line.extras = e.extrasJson;
    line.replayed_from = e.replay === null ? null : e.replay.from;
    if (e.definition.role === 'lesson') {
      counts.lessons++;
      const found = overlay.enrich(e.userUuid ?? '', e.language ?? '');
      line.subscription_status = found.subscription_status;
      line.subscription_type = found.subscription_type;
      line.country = found.country;
      line.enrichment_status = found.enrichment_status;
      if (found.enrichment_status !== 'complete') counts.enrichmentMisses++;
    }
    counts.staged++;
    out[c.index] = okRecord(
      c.recordId,
      stagedLineJson(line, e.specificsJson),
      time.stagingMetadata(e.createdAtMs, c.arrivalMs),
    );
  }

  counts.duplicates = counts.quarantined.duplicate;
  counts.conflicts = counts.quarantined.uuid_conflict;
  counts.dynamodbReads = dynamo.calls.reads;
  counts.dynamodbWrites = dynamo.calls.writes;
  deps.logger?.info('batch transformed', { invocationId: event.invocationId, ...flatCounts(counts) });
  return { result: { records: out }, counts };
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

function arrivalOf(rec: FirehoseTransformationEventRecord, nowMs: number): number {
  const t = rec.approximateArrivalTimestamp;
  return typeof t === 'number' && Number.isFinite(t) ? t : nowMs;
}

/** Where the record came from; with its batch's digest, what a retry of the batch repeats (transform/dedup.ts). */
function deliveryKeyOf(rec: FirehoseTransformationEventRecord, arrivalText: string): string {
  const k = rec.kinesisRecordMetadata;
  return k ? `k:${k.shardId}:${k.sequenceNumber}:${k.subsequenceNumber}` : `a:${arrivalText}`;
}

/**
 * The batch's records as a set, in no order: how many, and sums of their arrival times and of
 * 48 bits of each payload fingerprint (its size when it has none). A retry of the batch gives the
 * same, in any order and whatever its recordIds; another batch, another. Sums rather than a hash
 * of the sorted list: no sort of thousands of strings per invocation.
 */
class BatchDigest {
  private count = 0;
  private arrivals = 0;
  private prints = 0;
  private sizes = 0;

  add(arrivalMs: number, fingerprint: string | undefined, size: number): void {
    this.count++;
    this.arrivals = (this.arrivals + (arrivalMs % MOD)) % MOD;
    if (fingerprint === undefined) this.sizes += size;
    else this.prints = (this.prints + bits48(fingerprint)) % MOD;
  }

  text(): string {
    return `${this.count.toString(36)}.${this.arrivals.toString(36)}.${this.prints.toString(36)}.${this.sizes.toString(36)}`;
  }
}

/** Sums stay exact in a double: each part below 2^48. */
const MOD = 2 ** 48;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SIXBITS = new Uint8Array(128);
for (let i = 0; i < BASE64URL.length; i++) SIXBITS[BASE64URL.charCodeAt(i)] = i;

/** The first 48 bits of a base64url fingerprint, as a number. */
function bits48(fingerprint: string): number {
  let n = 0;
  for (let i = 0; i < 8; i++) n = n * 64 + (SIXBITS[fingerprint.charCodeAt(i) & 127] ?? 0);
  return n;
}

function flatCounts(c: BatchCounts): Record<string, number> {
  const { quarantined, ...rest } = c;
  const flat: Record<string, number> = { ...rest };
  for (const [reason, n] of Object.entries(quarantined)) if (n > 0) flat[`quarantined_${reason}`] = n;
  return flat;
}
