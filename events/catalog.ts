import { type SpecificsSchemaName, specificsSchemas } from './schemas.js';

/**
 * What the pipeline does with an event of a name: `user` and `subscription` change state in
 * DynamoDB, `lesson` is enriched from that state, `engagement` passes through.
 */
export type EventRole = 'user' | 'subscription' | 'lesson' | 'engagement';

export interface EventDefinition {
  readonly name: string;
  readonly schema: SpecificsSchemaName;
  readonly role: EventRole;
  /** Field of event_specifics that gives the lake's `user_uuid` column, or null. */
  readonly userField: string | null;
  /** Field of event_specifics that gives the lake's `language` column (and partition), or null. */
  readonly languageField: string | null;
}

function define<const N extends string, const S extends SpecificsSchemaName>(
  name: N,
  schema: S,
  role: EventRole,
  userField: string | null,
  languageField: string | null,
) {
  return { name, schema, role, userField, languageField } as const;
}

/** The event catalog: every event name Firelake accepts. */
export const CATALOG = [
  define('user:created', 'user', 'user', 'uuid', null),
  define('user:updated', 'user', 'user', 'uuid', null),
  define('subscription:created', 'subscription', 'subscription', 'user_uuid', 'language'),
  define('subscription:updated', 'subscription', 'subscription', 'user_uuid', 'language'),
  define('lesson:completed', 'lesson', 'lesson', 'user_uuid', 'language'),
  define('game:started', 'game', 'engagement', 'user_uuid', 'language_id'),
  define('game:resumed', 'game', 'engagement', 'user_uuid', 'language_id'),
  define('game:completed', 'game', 'engagement', 'user_uuid', 'language_id'),
  define('session:started', 'session', 'engagement', 'user_uuid', null),
  define('session:ended', 'session', 'engagement', 'user_uuid', null),
  define('app:installed', 'app_installed', 'engagement', 'user_uuid', null),
  define('notification:sent', 'notification', 'engagement', 'user_uuid', null),
  define('notification:opened', 'notification', 'engagement', 'user_uuid', null),
] as const satisfies readonly EventDefinition[];

export type EventName = (typeof CATALOG)[number]['name'];

export const EVENT_NAMES: readonly EventName[] = CATALOG.map((d) => d.name);

const byName = new Map<string, EventDefinition>(CATALOG.map((d) => [d.name, d]));

/** The definition of a known event name, or undefined. */
export function eventDefinition(name: string): EventDefinition | undefined {
  return byName.get(name);
}

export function isEventName(name: string): name is EventName {
  return byName.has(name);
}

export function specificsSchemaOf(name: EventName) {
  return specificsSchemas[byName.get(name)!.schema];
}

/** `type:subtype` split; both parts are needed for the lake's event_type/event_subtype columns. */
export function splitEventName(name: string): { type: string; subtype: string } {
  const i = name.indexOf(':');
  return i < 0 ? { type: name, subtype: '' } : { type: name.slice(0, i), subtype: name.slice(i + 1) };
}

/** Personal fields that are never stored in DynamoDB and never reach the lake. */
export const PERSONAL_FIELDS: readonly string[] = ['name', 'firstname', 'lastname'];
