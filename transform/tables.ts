import { DEFAULT_NAME_PREFIX, tableNameFor } from '../lake/settings.js';

// DynamoDB tables: key names and types defined once, for the transform, the local runtime
// (dynalite table creation) and the CDK stack. Table names are configurable; keys are not.

export interface TableKey {
  partitionKey: { name: string; type: 'S' };
  sortKey?: { name: string; type: 'S' };
}

export const TABLES = {
  /** One item per event_uuid: first record_id, payload fingerprint, expires_at (TTL, epoch s). */
  dedup: {
    partitionKey: { name: 'event_uuid', type: 'S' },
    ttlAttribute: 'expires_at',
    defaultName: tableNameFor(DEFAULT_NAME_PREFIX, 'dedup'),
    envVar: 'DEDUP_TABLE',
  },
  /** Current user state: country, active, updated_at (event time), last event uuid. */
  users: {
    partitionKey: { name: 'user_uuid', type: 'S' },
    defaultName: tableNameFor(DEFAULT_NAME_PREFIX, 'users'),
    envVar: 'USERS_TABLE',
  },
  /** Current subscription state per user and language. */
  subscriptions: {
    partitionKey: { name: 'user_uuid', type: 'S' },
    sortKey: { name: 'language', type: 'S' },
    defaultName: tableNameFor(DEFAULT_NAME_PREFIX, 'subscriptions'),
    envVar: 'SUBSCRIPTIONS_TABLE',
  },
} as const satisfies Record<
  string,
  TableKey & { defaultName: string; envVar: string; ttlAttribute?: string }
>;

export type TableId = keyof typeof TABLES;

/** Attribute names of items, shared by writers and readers. */
export const ATTR = {
  recordId: 'record_id',
  fingerprint: 'fingerprint',
  expiresAt: 'expires_at',
  firstSeenAt: 'first_seen_at',
  /** dedup: what identifies one delivery of a record across Firehose retries (transform/dedup.ts). */
  deliveryKey: 'delivery_key',
  country: 'country',
  active: 'active',
  updatedAt: 'updated_at',
  lastEventUuid: 'last_event_uuid',
  subscriptionStatus: 'subscription_status',
  subscriptionType: 'subscription_type',
  subscriptionPeriod: 'subscription_period',
} as const;

/** Table names, by table id; configurable, keys are not. */
export type TableNames = Record<TableId, string>;

export const DEFAULT_TABLE_NAMES: TableNames = {
  dedup: TABLES.dedup.defaultName,
  users: TABLES.users.defaultName,
  subscriptions: TABLES.subscriptions.defaultName,
};
