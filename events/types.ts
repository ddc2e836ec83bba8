import type { CATALOG, EventName } from './catalog.js';
import type { specificsSchemas } from './schemas.js';

// TypeScript types derived from the schemas, so a field added to a schema appears in the type.

type Primitive<P> = P extends { enum: readonly (infer E)[] }
  ? E
  : P extends { type: 'string' }
    ? string
    : P extends { type: 'integer' | 'number' }
      ? number
      : P extends { type: 'boolean' }
        ? boolean
        : unknown;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The object type a flat JSON Schema of primitive properties describes. */
export type FromSchema<S extends { properties: object; required: readonly string[] }> = Simplify<
  {
    -readonly [K in keyof S['properties'] as K extends S['required'][number] ? K : never]: Primitive<
      S['properties'][K]
    >;
  } & {
    -readonly [K in keyof S['properties'] as K extends S['required'][number] ? never : K]?: Primitive<
      S['properties'][K]
    >;
  }
>;

export type UserSpecifics = FromSchema<typeof specificsSchemas.user>;
export type SubscriptionSpecifics = FromSchema<typeof specificsSchemas.subscription>;
export type LessonSpecifics = FromSchema<typeof specificsSchemas.lesson>;
export type GameSpecifics = FromSchema<typeof specificsSchemas.game>;
export type SessionSpecifics = FromSchema<typeof specificsSchemas.session>;
export type InstallSpecifics = FromSchema<typeof specificsSchemas.app_installed>;
export type NotificationSpecifics = FromSchema<typeof specificsSchemas.notification>;

type SchemaOf<N extends EventName> = Extract<(typeof CATALOG)[number], { name: N }>['schema'];

/** event_specifics of an event name. */
export type SpecificsOf<N extends EventName> = FromSchema<(typeof specificsSchemas)[SchemaOf<N>]>;

/** An input event as a producer sends it. */
export type InputEvent<N extends EventName = EventName> = {
  [K in N]: {
    event_uuid: string;
    /** Epoch seconds (fractions allowed) or an ISO-8601 string. */
    created_at: number | string;
    event_name: K;
    event_specifics: SpecificsOf<K>;
  };
}[N];

/** The statuses and plan types an app is expected to send (any string is accepted). */
export type SubscriptionStatus =
  (typeof specificsSchemas.subscription.properties.subscription_status)['x-expected'][number];
export type SubscriptionType =
  (typeof specificsSchemas.subscription.properties.subscription_type)['x-expected'][number];

/** How complete the enrichment of a lesson event was. */
export type EnrichmentStatus =
  | 'complete'
  | 'missing_user'
  | 'missing_subscription'
  | 'missing_user_and_subscription';

/**
 * One line of staging NDJSON, as the transform writes it (docs/design.md "Transform output").
 * Timestamps are ISO-8601 UTC with milliseconds. Lesson fields are null on other events.
 */
export interface StagedEvent {
  event_uuid: string;
  event_name: EventName;
  event_type: string;
  event_subtype: string;
  created_at: string;
  received_at: string;
  user_uuid: string | null;
  language: string | null;
  event_specifics: Record<string, unknown>;
  subscription_status: string | null;
  subscription_type: string | null;
  country: string | null;
  enrichment_status: EnrichmentStatus | null;
  /**
   * What the catalog does not name: event_specifics fields its schema does not list, and the
   * envelope's unknown top-level keys under `_envelope`; personal fields removed. Absent when
   * there is none (curated `extras` is then null).
   */
  extras?: Record<string, unknown>;
  /** Origin of a record sent by `firelake replay` (`<object key>#<line>`); absent on live events. */
  replayed_from?: string;
}

/** Why a record went to quarantine (docs/design.md). */
export const QUARANTINE_REASONS = [
  'invalid_utf8',
  'invalid_json',
  'schema_violation',
  'unknown_event',
  'future_timestamp',
  'too_late',
  'duplicate',
  'uuid_conflict',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/**
 * One line of quarantine NDJSON. Everything needed to fix and replay the record: the original
 * payload (personal fields removed) or its base64 when it is not UTF-8, and every violation.
 * A `duplicate` is a thin tombstone: uuid, arrival and the record that was kept, no payload.
 */
export interface QuarantineRecord {
  reason: QuarantineReason;
  /** Firehose arrival time, ISO-8601 UTC ms; quarantine is partitioned by it. */
  received_at: string;
  record_id: string;
  event_uuid: string | null;
  event_name: string | null;
  /** Event time when it could be read, ISO-8601 UTC ms. */
  created_at: string | null;
  errors: { path: string; message: string }[];
  /** The original record as text, personal fields removed; null on tombstones and non-UTF-8. */
  payload: string | null;
  /** The original bytes in base64 when they are not valid UTF-8. */
  payload_base64: string | null;
  /** duplicate / uuid_conflict: the record_id that first wrote this uuid. */
  first_record_id: string | null;
  /** Origin of a record sent by `firelake replay` (`<object key>#<line>`); absent on live records. */
  replayed_from?: string;
}
