import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { EnrichmentStatus } from '../events/types.js';
import type { Dynamo, Item } from './dynamo.js';
import { ATTR, TABLES } from './tables.js';

// User and subscription state: last-writer-wins by event time (created_at, ties by event uuid),
// enforced by the write condition so concurrent invocations and late events cannot regress it.
// Names are never stored: only what enrichment needs.

/** Position of a state in time: newer wins; the uuid breaks ties the same way everywhere. */
export interface Version {
  atMs: number;
  uuid: string;
}

export function isNewer(a: Version, b: Version | undefined): boolean {
  return b === undefined || a.atMs > b.atMs || (a.atMs === b.atMs && a.uuid > b.uuid);
}

export interface UserState {
  version: Version;
  country: string;
  active: boolean;
}

export interface SubscriptionState {
  version: Version;
  status: string;
  type: string;
  period: number;
}

/** A staged user or subscription event, as a state change. */
export type StateChange =
  | { kind: 'user'; userUuid: string; state: UserState }
  | { kind: 'subscription'; userUuid: string; language: string; state: SubscriptionState };

export const subscriptionKey = (userUuid: string, language: string) => `${userUuid}\u0000${language}`;
const keyOf = (c: StateChange) =>
  c.kind === 'user' ? `u\u0000${c.userUuid}` : `s\u0000${subscriptionKey(c.userUuid, c.language)}`;

export interface StateTables {
  users: string;
  subscriptions: string;
}

export interface ApplyResult {
  /** Conditional writes that changed the tables. */
  written: number;
  /** Updates not applied because a newer state was already there (in the table or earlier in the batch). */
  stale: number;
}

// Overwrite when absent, older, or the very same event (a Firehose retry re-applies it).
const LWW = 'attribute_not_exists(#pk) OR #at < :at OR (#at = :at AND #last <= :uuid)';

/**
 * Applies state changes given in batch order. Several changes of one key in a batch collapse
 * into one write of the newest (the others would be overwritten or stale anyway), so a key
 * costs one conditional PutItem per batch.
 */
export async function applyState(dynamo: Dynamo, tables: StateTables, changes: readonly StateChange[]) {
  const newest = new Map<string, { change: StateChange; applied: number }>();
  let stale = 0;
  for (const change of changes) {
    const key = keyOf(change);
    const current = newest.get(key);
    if (current === undefined) newest.set(key, { change, applied: 1 });
    else if (isNewer(change.state.version, current.change.state.version)) {
      current.change = change;
      current.applied++;
    } else stale++; // older than one earlier in the batch: out of order
  }
  const entries = [...newest.values()];
  const results = await dynamo.putEachIfCondition(entries.length, (n) =>
    statePut(entries[n]!.change, tables),
  );
  let written = 0;
  results.forEach((ok, i) => {
    if (ok) written++;
    // The table holds something at least as new as the newest of the batch: all were stale.
    else stale += entries[i]!.applied;
  });
  return { written, stale } satisfies ApplyResult;
}

type VersionAttribute = typeof ATTR.updatedAt | typeof ATTR.lastEventUuid;
type UserAttribute =
  | typeof TABLES.users.partitionKey.name
  | typeof ATTR.country
  | typeof ATTR.active
  | VersionAttribute;
type SubscriptionAttribute =
  | typeof TABLES.subscriptions.partitionKey.name
  | typeof TABLES.subscriptions.sortKey.name
  | typeof ATTR.subscriptionStatus
  | typeof ATTR.subscriptionType
  | typeof ATTR.subscriptionPeriod
  | VersionAttribute;

function statePut(change: StateChange, tables: StateTables) {
  const v = change.state.version;
  // Literal keys (fixed-shape objects, cheap to make); `satisfies` fails the build if tables.ts
  // renames one. Attribute order: keys first, updated_at and last_event_uuid last.
  const item: Item =
    change.kind === 'user'
      ? ({
          user_uuid: { S: change.userUuid },
          country: { S: change.state.country },
          active: { BOOL: change.state.active },
          updated_at: { N: String(v.atMs) },
          last_event_uuid: { S: v.uuid },
        } satisfies Record<UserAttribute, AttributeValue>)
      : ({
          user_uuid: { S: change.userUuid },
          language: { S: change.language },
          subscription_status: { S: change.state.status },
          subscription_type: { S: change.state.type },
          subscription_period: { N: String(change.state.period) },
          updated_at: { N: String(v.atMs) },
          last_event_uuid: { S: v.uuid },
        } satisfies Record<SubscriptionAttribute, AttributeValue>);
  return {
    TableName: change.kind === 'user' ? tables.users : tables.subscriptions,
    Item: item,
    ConditionExpression: LWW,
    ExpressionAttributeNames: {
      '#pk': change.kind === 'user' ? TABLES.users.partitionKey.name : TABLES.subscriptions.partitionKey.name,
      '#at': ATTR.updatedAt,
      '#last': ATTR.lastEventUuid,
    },
    ExpressionAttributeValues: { ':at': { N: String(v.atMs) }, ':uuid': { S: v.uuid } },
  };
}

/** State read from the tables, before this batch's writes. */
export interface StoredState {
  users: Map<string, UserState>;
  subscriptions: Map<string, SubscriptionState>;
}

/**
 * Reads the state the lessons of a batch need: each user and (user, language) once, however
 * many lessons share it, 100 keys per BatchGetItem.
 */
export async function readState(
  dynamo: Dynamo,
  tables: StateTables,
  lessons: readonly { userUuid: string; language: string }[],
): Promise<StoredState> {
  const users = new Set<string>();
  const subs = new Map<string, { userUuid: string; language: string }>();
  for (const l of lessons) {
    users.add(l.userUuid);
    subs.set(subscriptionKey(l.userUuid, l.language), l);
  }
  const state: StoredState = { users: new Map(), subscriptions: new Map() };
  if (users.size === 0) return state;
  const userPk = TABLES.users.partitionKey.name;
  const subPk = TABLES.subscriptions.partitionKey.name;
  const subSk = TABLES.subscriptions.sortKey.name;
  const found = await dynamo.batchGet(
    [
      { table: tables.users, keys: [...users].map((u) => ({ [userPk]: { S: u } })) },
      {
        table: tables.subscriptions,
        keys: [...subs.values()].map((s) => ({ [subPk]: { S: s.userUuid }, [subSk]: { S: s.language } })),
      },
    ],
    // Strongly consistent: the previous batch's writes, a second ago, must be seen.
    true,
  );
  for (const item of found.get(tables.users) ?? []) {
    const uuid = item[userPk]?.S;
    if (uuid) {
      state.users.set(uuid, {
        version: versionOf(item),
        country: item[ATTR.country]?.S ?? '',
        active: item[ATTR.active]?.BOOL ?? false,
      });
    }
  }
  // users and subscriptions may share one table name in odd setups; only items with a sort key count.
  for (const item of found.get(tables.subscriptions) ?? []) {
    const user = item[subPk]?.S;
    const language = item[subSk]?.S;
    if (user && language) {
      state.subscriptions.set(subscriptionKey(user, language), {
        version: versionOf(item),
        status: item[ATTR.subscriptionStatus]?.S ?? '',
        type: item[ATTR.subscriptionType]?.S ?? '',
        period: Number(item[ATTR.subscriptionPeriod]?.N ?? 0),
      });
    }
  }
  return state;
}

function versionOf(item: Item): Version {
  return { atMs: Number(item[ATTR.updatedAt]?.N ?? 0), uuid: item[ATTR.lastEventUuid]?.S ?? '' };
}

export interface Enrichment {
  subscription_status: string | null;
  subscription_type: string | null;
  country: string | null;
  enrichment_status: EnrichmentStatus;
}

/**
 * Walks the batch in order, keeping the state as of each position: the stored state overlaid
 * with the staged state events seen so far (last-writer-wins, so a late older event does not
 * win here either). Call `change` for each staged state event and `enrich` for each lesson.
 */
export class StateOverlay {
  private readonly users = new Map<string, UserState>();
  private readonly subscriptions = new Map<string, SubscriptionState>();

  constructor(private readonly stored: StoredState) {}

  change(c: StateChange): void {
    if (c.kind === 'user') {
      const current = this.users.get(c.userUuid) ?? this.stored.users.get(c.userUuid);
      if (isNewer(c.state.version, current?.version)) this.users.set(c.userUuid, c.state);
    } else {
      const key = subscriptionKey(c.userUuid, c.language);
      const current = this.subscriptions.get(key) ?? this.stored.subscriptions.get(key);
      if (isNewer(c.state.version, current?.version)) this.subscriptions.set(key, c.state);
    }
  }

  enrich(userUuid: string, language: string): Enrichment {
    const user = this.users.get(userUuid) ?? this.stored.users.get(userUuid);
    const key = subscriptionKey(userUuid, language);
    const sub = this.subscriptions.get(key) ?? this.stored.subscriptions.get(key);
    return {
      subscription_status: sub?.status ?? null,
      subscription_type: sub?.type ?? null,
      country: user?.country ?? null,
      enrichment_status: user
        ? sub
          ? 'complete'
          : 'missing_subscription'
        : sub
          ? 'missing_user'
          : 'missing_user_and_subscription',
    };
  }
}
