// The event schemas (JSON Schema draft-07), one source of truth: the validators, the TypeScript
// types (events/types.ts), the Parquet schema (events/curated.ts) and the files in
// events/schemas/*.schema.json (written by `npm run schemas`, checked by a test) all come from here.
//
// User, subscription and lesson carry over the app's schemas field for field, with their types.
// App engagement events (games, sessions, installs, notifications) follow the app's too. Unknown extra fields are allowed and kept
// (curated `extras`): producers evolve first.
//
// What validation quarantines, and what it leaves to the quality scorecard (the policy):
//
// - Quarantined (`schema_violation`), because the pipeline cannot use the event: a malformed
//   envelope; a named field of the wrong JSON type (its curated column has one type); a missing
//   field the pipeline needs: the user key (`uuid`, `user_uuid`: DynamoDB state and enrichment),
//   `language` where it partitions or enriches, the event's own id (`session_id`, `install_id`,
//   `notification_id`), and the state a user or subscription event writes; limits of the stores
//   the value goes to: keys non-empty and short enough for a DynamoDB key (user keys 512
//   characters, languages 64), state strings at most 256 characters (a DynamoDB item), integers
//   within +-(2^53 - 1) (exact in JSON and in the Parquet BIGINT).
// - Not quarantined: business vocabularies (subscription status and type, device, difficulty,
//   store, campaign, operation) are open strings, as the app sends them, and business bounds (a
//   percentage within 0-100, a positive period, a two-letter country) are expectations. Both are
//   written on the field as `x-expected`, a list of values or bounds; `firelake quality` reports
//   the share and the top values outside them (`vocabulary.*` and `bounds.*` checks, warn), so a
//   new plan name shows up as a warning, not as lost state. Fields an event should carry but the
//   pipeline does not need are in `x-expected-present` (the completeness checks).
//
// Versions: each schema carries `x-version`; events/released.json is the snapshot of the
// released catalog, and test/unit/catalog-compat.test.ts fails on a change that would quarantine
// events accepted before, remove a field or change a curated column's type, unless the version
// is bumped with a note in `x-changes` on how older days read (events/compat.ts).

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

const uuid = { type: 'string', format: 'uuid' } as const;

/** A user id: a DynamoDB key (non-empty, within the 2,048-byte partition key in UTF-8). */
const userKey = { type: 'string', minLength: 1, maxLength: 512 } as const;
/** A language: a DynamoDB sort key and a Parquet partition value. */
const languageCode = { type: 'string', minLength: 1, maxLength: 64 } as const;
/** A string kept in DynamoDB state (an item holds at most 400 KB). */
const stateString = { type: 'string', maxLength: 256 } as const;
/** Integers that JSON, JavaScript and a Parquet BIGINT all hold exactly. */
const integer = { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 } as const;
const device = { type: 'string', 'x-expected': ['iOS', 'Android', 'Web'] } as const;
const appVersion = { type: 'string', 'x-expected': { minLength: 1, maxLength: 32 } } as const;
const country = {
  type: 'string',
  description: 'ISO 3166-1 alpha-2',
  'x-expected': { minLength: 2, maxLength: 2 },
} as const;
const operation = {
  type: 'string',
  description: 'create or update',
  'x-expected': ['create', 'update'],
} as const;

export const userSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/user.schema.json',
  title: 'user',
  description: 'Emitted by backend on user change',
  'x-version': 1,
  type: 'object',
  properties: {
    operation,
    name: { type: 'string', description: 'user name' },
    uuid: { ...userKey, description: 'uuid of the user' },
    firstname: { type: 'string' },
    lastname: { type: 'string' },
    country: { ...country, ...stateString, description: 'country the user is registered in' },
    active: { type: 'boolean', description: 'is the user active in the system' },
  },
  required: ['uuid', 'country', 'active'],
} as const;

export const subscriptionSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/subscription.schema.json',
  title: 'subscription',
  description: 'Emitted by backend on user subscription change',
  'x-version': 1,
  type: 'object',
  properties: {
    operation,
    name: { type: 'string', description: 'subscription name' },
    user_uuid: { ...userKey, description: 'uuid of the user' },
    language: { ...languageCode, description: 'language of the lesson' },
    subscription_status: {
      ...stateString,
      'x-expected': ['trial', 'active', 'past_due', 'cancelled', 'expired'],
    },
    subscription_type: { ...stateString, 'x-expected': ['free', 'basic', 'premium', 'family'] },
    subscription_period: {
      ...integer,
      description: 'period of subscription in days',
      'x-expected': { minimum: 1 },
    },
  },
  required: ['user_uuid', 'language', 'subscription_status', 'subscription_type', 'subscription_period'],
} as const;

export const lessonSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/lesson.schema.json',
  title: 'lesson',
  description: 'Emitted by the backend when a lesson has been completed by a user',
  'x-version': 1,
  type: 'object',
  properties: {
    content_release_id: {
      type: 'string',
      description: 'content release version where this lesson was completed',
    },
    title: { type: 'string', description: 'title of the lesson' },
    language: { ...languageCode, description: 'language of the lesson' },
    course_uuid: { type: 'string', description: 'UUID of the course' },
    course_title: { type: 'string', description: 'Title of the course' },
    number_of_lessons_in_course: {
      ...integer,
      description: 'Number of lessons in course',
      'x-expected': { minimum: 1 },
    },
    completed_lessons_in_course: {
      ...integer,
      description: 'Number of completed lessons in course (including current one)',
      'x-expected': { minimum: 0 },
    },
    percentage_completed_in_course: {
      ...integer,
      description: 'Percentage of this course already completed by this user',
      'x-expected': { minimum: 0, maximum: 100 },
    },
    user_uuid: { ...userKey, description: 'uuid of the user' },
  },
  required: ['language', 'user_uuid'],
  'x-expected-present': [
    'content_release_id',
    'title',
    'course_uuid',
    'course_title',
    'number_of_lessons_in_course',
    'completed_lessons_in_course',
    'percentage_completed_in_course',
  ],
} as const;

export const gameSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/game.schema.json',
  title: 'game',
  description: 'A language game played in the app: started, resumed, completed',
  'x-version': 1,
  type: 'object',
  properties: {
    user_uuid: userKey,
    session_id: { type: 'string', minLength: 1 },
    device,
    app_version: appVersion,
    country,
    language_id: { ...languageCode, description: 'language of the game' },
    difficulty: { type: 'string', 'x-expected': ['Easy', 'Medium', 'Hard'] },
    score: { ...integer, 'x-expected': { minimum: 0 } },
    attempts: { ...integer, 'x-expected': { minimum: 0 } },
  },
  required: ['user_uuid', 'language_id'],
  'x-expected-present': ['session_id', 'device', 'difficulty'],
} as const;

export const sessionSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/session.schema.json',
  title: 'session',
  description: 'An app session: started, then ended with its duration',
  'x-version': 1,
  type: 'object',
  properties: {
    user_uuid: userKey,
    session_id: { type: 'string', minLength: 1 },
    device,
    app_version: appVersion,
    country,
    duration: { type: 'number', description: 'seconds, on session:ended', 'x-expected': { minimum: 0 } },
  },
  required: ['user_uuid', 'session_id'],
  'x-expected-present': ['device', 'app_version'],
} as const;

export const installSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/app_installed.schema.json',
  title: 'app installed',
  description: 'The app was installed on a device; the user may not exist yet',
  'x-version': 1,
  type: 'object',
  properties: {
    install_id: { type: 'string', minLength: 1 },
    user_uuid: userKey,
    device,
    app_version: appVersion,
    country,
    store: { type: 'string', 'x-expected': ['app_store', 'play_store', 'web'] },
  },
  required: ['install_id'],
  'x-expected-present': ['device', 'app_version', 'country'],
} as const;

export const notificationSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/notification.schema.json',
  title: 'notification',
  description: "A push notification sent to or opened by a user (the app's view_notification)",
  'x-version': 1,
  type: 'object',
  properties: {
    user_uuid: userKey,
    notification_id: { type: 'string', minLength: 1 },
    campaign: { type: 'string', 'x-expected': { minLength: 1 } },
    device,
    app_version: appVersion,
    country,
  },
  required: ['user_uuid', 'notification_id'],
  'x-expected-present': ['campaign', 'device'],
} as const;

export const envelopeSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/envelope.schema.json',
  title: 'envelope',
  description: 'Every event: uuid, event time, type:subtype name and the specifics of that name',
  type: 'object',
  properties: {
    event_uuid: uuid,
    created_at: {
      description: 'event time: epoch seconds (fractions allowed) or an ISO-8601 string',
      oneOf: [
        { type: 'number', minimum: 0 },
        { type: 'string', format: 'date-time' },
      ],
    },
    event_name: { type: 'string', pattern: '^[a-z_]+:[a-z_]+$' },
    event_specifics: { type: 'object' },
  },
  required: ['event_uuid', 'created_at', 'event_name', 'event_specifics'],
} as const;

/** Every specifics schema by file name, for `npm run schemas` and the Glue/Parquet derivations. */
export const specificsSchemas = {
  user: userSchema,
  subscription: subscriptionSchema,
  lesson: lessonSchema,
  game: gameSchema,
  session: sessionSchema,
  app_installed: installSchema,
  notification: notificationSchema,
} as const;

export type SpecificsSchemaName = keyof typeof specificsSchemas;

/** Annotation keywords of the schemas: ajv (strict) is told they validate nothing. */
export const ANNOTATION_KEYWORDS = ['x-version', 'x-changes', 'x-expected', 'x-expected-present'] as const;

/** `x-expected` of a field: the values an app is expected to send, or bounds of a number or a length. */
export type Expected =
  | readonly string[]
  | { minimum?: number; maximum?: number; minLength?: number; maxLength?: number };

/** A specifics schema as data (what events/compat.ts and the scorecard read). */
export interface SchemaShape {
  'x-version': number;
  'x-changes'?: Record<string, string>;
  'x-expected-present'?: readonly string[];
  properties: Record<string, Record<string, unknown> & { type: string; 'x-expected'?: Expected }>;
  required: readonly string[];
}

export function schemaShape(name: SpecificsSchemaName): SchemaShape {
  return specificsSchemas[name] as unknown as SchemaShape;
}
