import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { FirelakeError } from '../lake/errors.js';
import type { Dynamo, Item } from './dynamo.js';
import { ATTR, TABLES } from './tables.js';

// Deduplication by event_uuid: first within the batch, then across batches with one conditional
// PutItem per event on the dedup table.
//
// Retry safety. Firehose retries a whole batch after an error or timeout, and a marker written
// by the failed attempt must not turn the retry into a "duplicate" (that would lose the event).
// A write may take over a marker when it is the same payload (fingerprint) AND one delivery of
// the same record: the same record_id, or the same delivery key; or when the marker is older
// than the dedup window. What names one delivery of one record:
//   - record_id. With multi-record deaggregation every sub-record gets its own (the answer must
//     return each once), and the ids Firehose passes look like the stored record's sequence
//     number with a six-digit suffix, so a property of the stored sub-record, not of the attempt
//     (docs/firehose.md; AWS does not document it). The local Firehose keeps them across its
//     retries and its write-ahead log's redeliveries.
//   - the delivery key, in case a retry carries other recordIds: where the record came from
//     (the Kinesis sequence number, else the arrival time) and a digest of the whole batch as a
//     set (each record's arrival and fingerprint, in any order). Not the arrival alone: every
//     record of one PutRecordBatch call shares it, and so would two copies of an event a client
//     packed into one call, which then, split into two invocations, would both be staged.
// So:
//   - the same batch retried, same recordIds or not, in any order -> not a duplicate;
//   - a client resend, in a later call or packed twice into the same one -> duplicate;
//   - the same uuid with another payload -> uuid_conflict, whatever the delivery.
// The leaks go the safe way: two copies of an event in two invocations with the very same
// contents are both staged (compaction drops one by event_uuid). An event would be lost only
// if a retry carried both other recordIds and another batch: the local Firehose never does, and
// nothing seen of Firehose's recordIds suggests it does.
// Within a batch the kept record of a uuid is the earliest arrival (then position), not the
// first seen, so a retry that reorders records keeps the same one.
//
// Replay (replay/, transform/replay-tag.ts). A replayed record is a new delivery: new record,
// new arrival, so a second replay of the same record, or the rerun of an interrupted replay, is
// a `duplicate` of the first (reported "already present"), and a replayed record equal to a
// live one is that one's duplicate. One more takeover: a record replayed from errors/ carries
// the arrival of its failed delivery, and may take over a marker with the same fingerprint
// written at that arrival (first_seen_at): the failed attempts of that delivery may have written
// it, and their output never reached the lake. Once taken over, the marker has the replay's
// arrival, so replaying the same errors/ record again is a duplicate.

export interface DedupCandidate {
  recordId: string;
  arrivalMs: number;
  /** String(arrivalMs), when the caller has it already. */
  arrivalText?: string;
  /**
   * `k:<shard>:<sequence>:<subsequence>` (Kinesis source) or `a:<arrival ms>` (Direct PUT), then
   * `@<digest of the batch>` (see above).
   */
  deliveryKey: string;
  uuid: string;
  fingerprint: string;
  /** A record replayed from errors/: the arrival of its failed delivery (see above). */
  takeoverArrivalMs?: number;
}

export type DedupOutcome = { kind: 'new' } | { kind: 'duplicate' | 'uuid_conflict'; firstRecordId: string };

export interface DedupOptions {
  table: string;
  nowMs: number;
  ttlHours: number;
}

const CONDITION = 'attribute_not_exists(#uuid) OR #exp < :now OR (#fp = :fp AND (#rid = :rid OR #dk = :dk))';
const NAMES = {
  '#uuid': TABLES.dedup.partitionKey.name,
  '#exp': ATTR.expiresAt,
  '#fp': ATTR.fingerprint,
  '#rid': ATTR.recordId,
  '#dk': ATTR.deliveryKey,
};
/** Replays from errors/ only; live writes keep CONDITION. */
const TAKEOVER_CONDITION =
  'attribute_not_exists(#uuid) OR #exp < :now OR (#fp = :fp AND (#rid = :rid OR #dk = :dk OR #seen = :seen))';
const TAKEOVER_NAMES = { ...NAMES, '#seen': ATTR.firstSeenAt };
/** The outcome of every kept event: one object, read only. */
const NEW: DedupOutcome = Object.freeze({ kind: 'new' });
/** Rounds of write-then-read when a marker expires or vanishes between the two. */
const MAX_ROUNDS = 3;

interface Owner {
  recordId: string;
  fingerprint: string;
}

/**
 * The markers of some events kept changing between the conditional write and the read that
 * explains its failure (written, then gone or expired, round after round): no owner could be
 * established. Not an outage: DynamoDB answered every call. The batch fails, and Firehose's retry
 * of it reads settled markers.
 */
export class DedupConsistencyError extends FirelakeError {
  static override readonly code: string = 'DEDUP_MARKERS_UNSETTLED';
  override name = 'DedupConsistencyError';
}

/**
 * One outcome per candidate, in the same order. Throws DynamoUnavailableError on outage,
 * DedupConsistencyError when markers do not settle.
 */
export async function deduplicate(
  dynamo: Dynamo,
  candidates: readonly DedupCandidate[],
  options: DedupOptions,
): Promise<DedupOutcome[]> {
  // The kept record of each uuid: earliest arrival, then earliest position.
  const winners = new Map<string, number>();
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const w = winners.get(c.uuid);
    if (w === undefined || c.arrivalMs < candidates[w]!.arrivalMs) winners.set(c.uuid, i);
  }
  // Who owns each kept record's uuid, by the kept record's position.
  const owners = new Array<Owner | 'new' | undefined>(candidates.length);
  let pending = [...winners.values()];
  const nowS = Math.floor(options.nowMs / 1000);
  const expiresAt = nowS + Math.round(options.ttlHours * 3600);
  // The same for every marker of the batch: one attribute value each, shared by all the inputs.
  const times = { now: { N: String(nowS) }, expiresAt: { N: String(expiresAt) } };
  for (let round = 0; pending.length > 0; round++) {
    if (round >= MAX_ROUNDS) {
      throw new DedupConsistencyError(
        `dedup markers of ${pending.length} events kept changing between write and read; retry the batch`,
      );
    }
    const writing = pending;
    const written = await dynamo.putEachIfCondition(writing.length, (n) =>
      markerPut(candidates[writing[n]!]!, options.table, times),
    );
    const failed: number[] = [];
    pending.forEach((i, n) => {
      if (written[n]) owners[i] = 'new';
      else failed.push(i);
    });
    pending = [];
    if (failed.length === 0) break;
    const stored = await readMarkers(
      dynamo,
      options.table,
      failed.map((i) => candidates[i]!.uuid),
    );
    for (const i of failed) {
      const c = candidates[i]!;
      const item = stored.get(c.uuid);
      const expired = item === undefined || Number(item[ATTR.expiresAt]?.N ?? 0) < nowS;
      const fingerprint = item?.[ATTR.fingerprint]?.S ?? '';
      const recordId = item?.[ATTR.recordId]?.S ?? '';
      const sameDelivery =
        fingerprint === c.fingerprint &&
        (recordId === c.recordId ||
          item?.[ATTR.deliveryKey]?.S === c.deliveryKey ||
          (c.takeoverArrivalMs !== undefined && Number(item?.[ATTR.firstSeenAt]?.N) === c.takeoverArrivalMs));
      if (sameDelivery) owners[i] = 'new';
      else if (expired)
        pending.push(i); // gone or expired since the write: write again
      else owners[i] = { recordId, fingerprint };
    }
  }
  return candidates.map((c, i) => {
    const winner = winners.get(c.uuid)!;
    const owner = owners[winner]!;
    if (owner === 'new') {
      if (winner === i) return NEW;
      const kept = candidates[winner]!;
      return outcome(c, { recordId: kept.recordId, fingerprint: kept.fingerprint });
    }
    return outcome(c, owner);
  });
}

function outcome(c: DedupCandidate, owner: Owner): DedupOutcome {
  return {
    kind: c.fingerprint === owner.fingerprint ? 'duplicate' : 'uuid_conflict',
    firstRecordId: owner.recordId,
  };
}

/** The attributes of a dedup marker. */
type MarkerAttribute =
  | typeof TABLES.dedup.partitionKey.name
  | typeof ATTR.recordId
  | typeof ATTR.fingerprint
  | typeof ATTR.deliveryKey
  | typeof ATTR.firstSeenAt
  | typeof ATTR.expiresAt;

function markerPut(
  c: DedupCandidate,
  table: string,
  times: { now: { N: string }; expiresAt: { N: string } },
) {
  // Each value once, referenced from the item and the condition (the SDK only reads its input).
  const fingerprint = { S: c.fingerprint };
  const recordId = { S: c.recordId };
  const deliveryKey = { S: c.deliveryKey };
  const put = {
    TableName: table,
    // Literal keys, not computed ones: an object literal of fixed shape is much cheaper to make
    // (this runs for every event); `satisfies` fails the build if tables.ts renames one.
    Item: {
      event_uuid: { S: c.uuid },
      record_id: recordId,
      fingerprint,
      delivery_key: deliveryKey,
      first_seen_at: { N: c.arrivalText ?? String(c.arrivalMs) },
      expires_at: times.expiresAt,
    } satisfies Record<MarkerAttribute, AttributeValue>,
    ConditionExpression: CONDITION,
    ExpressionAttributeNames: NAMES,
    ExpressionAttributeValues: {
      ':now': times.now,
      ':fp': fingerprint,
      ':rid': recordId,
      ':dk': deliveryKey,
    },
  };
  if (c.takeoverArrivalMs === undefined) return put;
  // A record replayed from errors/ may also take over its failed delivery's marker.
  return {
    ...put,
    ConditionExpression: TAKEOVER_CONDITION,
    ExpressionAttributeNames: TAKEOVER_NAMES,
    ExpressionAttributeValues: {
      ...put.ExpressionAttributeValues,
      ':seen': { N: String(c.takeoverArrivalMs) },
    },
  };
}

async function readMarkers(dynamo: Dynamo, table: string, uuids: string[]): Promise<Map<string, Item>> {
  const keys = [...new Set(uuids)].map((u) => ({ [TABLES.dedup.partitionKey.name]: { S: u } }));
  // Consistent read: the marker that just failed our condition must be visible.
  const found = await dynamo.batchGet([{ table, keys }], true);
  const byUuid = new Map<string, Item>();
  for (const item of found.get(table) ?? []) {
    const uuid = item[TABLES.dedup.partitionKey.name]?.S;
    if (uuid) byUuid.set(uuid, item);
  }
  return byUuid;
}
