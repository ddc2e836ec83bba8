// The event schemas (JSON Schema draft-07), one source of truth: the validators, the TypeScript
// types (events/types.ts), the Parquet schema (events/curated.ts) and the files in
// events/schemas/*.schema.json (written by `npm run schemas`, checked by a test) all come from here.
//
// User, subscription and lesson carry over seed 000's schemas field for field; `required` and
// bounds are Firelake's additions (what enrichment and analytics rely on). App engagement
// events follow seeds 002 and 004. Unknown extra fields are allowed: producers evolve first.

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

const uuid = { type: 'string', format: 'uuid' } as const;
const languageCode = { type: 'string', minLength: 2, maxLength: 16 } as const;
const device = { type: 'string', enum: ['iOS', 'Android', 'Web'] } as const;
const appVersion = { type: 'string', minLength: 1, maxLength: 32 } as const;
const country = { type: 'string', minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' } as const;

export const userSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/user.schema.json',
  title: 'user',
  description: 'Emitted by backend on user change',
  type: 'object',
  properties: {
    operation: { type: 'string', enum: ['create', 'update'], description: 'create or update' },
    name: { type: 'string', description: 'user name' },
    uuid: { ...uuid, description: 'uuid of the user' },
    firstname: { type: 'string' },
    lastname: { type: 'string' },
    country: { ...country, description: 'country the user is registered in' },
    active: { type: 'boolean', description: 'is the user active in the system' },
  },
  required: ['uuid', 'country', 'active'],
} as const;

export const subscriptionSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/subscription.schema.json',
  title: 'subscription',
  description: 'Emitted by backend on user subscription change',
  type: 'object',
  properties: {
    operation: { type: 'string', enum: ['create', 'update'], description: 'create or update' },
    name: { type: 'string', description: 'subscription name' },
    user_uuid: { ...uuid, description: 'uuid of the user' },
    language: { ...languageCode, description: 'language of the lesson' },
    subscription_status: { type: 'string', enum: ['trial', 'active', 'past_due', 'cancelled', 'expired'] },
    subscription_type: { type: 'string', enum: ['free', 'basic', 'premium', 'family'] },
    subscription_period: { type: 'integer', minimum: 1, description: 'period of subscription in days' },
  },
  required: ['user_uuid', 'language', 'subscription_status', 'subscription_type', 'subscription_period'],
} as const;

export const lessonSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/lesson.schema.json',
  title: 'lesson',
  description: 'Emitted by the backend when a lesson has been completed by a user',
  type: 'object',
  properties: {
    content_release_id: {
      type: 'string',
      description: 'content release version where this lesson was completed',
    },
    title: { type: 'string', description: 'title of the lesson' },
    language: { ...languageCode, description: 'language of the lesson' },
    course_uuid: { ...uuid, description: 'UUID of the course' },
    course_title: { type: 'string', description: 'Title of the course' },
    number_of_lessons_in_course: { type: 'integer', minimum: 1, description: 'Number of lessons in course' },
    completed_lessons_in_course: {
      type: 'integer',
      minimum: 0,
      description: 'Number of completed lessons in course (including current one)',
    },
    percentage_completed_in_course: {
      type: 'integer',
      minimum: 0,
      maximum: 100,
      description: 'Percentage of this course already completed by this user',
    },
    user_uuid: { ...uuid, description: 'uuid of the user' },
  },
  required: [
    'content_release_id',
    'title',
    'language',
    'course_uuid',
    'course_title',
    'number_of_lessons_in_course',
    'completed_lessons_in_course',
    'percentage_completed_in_course',
    'user_uuid',
  ],
} as const;

export const gameSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/game.schema.json',
  title: 'game',
  description: 'A language game played in the app (seed 002): started, resumed, completed',
  type: 'object',
  properties: {
    user_uuid: uuid,
    session_id: uuid,
    device,
    app_version: appVersion,
    country,
    language_id: { ...languageCode, description: 'language of the game' },
    difficulty: { type: 'string', enum: ['Easy', 'Medium', 'Hard'] },
    score: { type: 'integer', minimum: 0 },
    attempts: { type: 'integer', minimum: 0 },
  },
  required: ['user_uuid', 'session_id', 'device', 'language_id', 'difficulty'],
} as const;

export const sessionSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/session.schema.json',
  title: 'session',
  description: 'An app session (seed 004): started, then ended with its duration',
  type: 'object',
  properties: {
    user_uuid: uuid,
    session_id: uuid,
    device,
    app_version: appVersion,
    country,
    duration: { type: 'number', minimum: 0, description: 'seconds, on session:ended' },
  },
  required: ['user_uuid', 'session_id', 'device', 'app_version'],
} as const;

export const installSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/app_installed.schema.json',
  title: 'app installed',
  description: 'The app was installed on a device (seed 004); the user may not exist yet',
  type: 'object',
  properties: {
    install_id: uuid,
    user_uuid: uuid,
    device,
    app_version: appVersion,
    country,
    store: { type: 'string', enum: ['app_store', 'play_store', 'web'] },
  },
  required: ['install_id', 'device', 'app_version', 'country'],
} as const;

export const notificationSchema = {
  $schema: DRAFT_07,
  $id: 'firelake/notification.schema.json',
  title: 'notification',
  description: 'A push notification sent to or opened by a user (seed 004 view_notification)',
  type: 'object',
  properties: {
    user_uuid: uuid,
    notification_id: uuid,
    campaign: { type: 'string', minLength: 1 },
    device,
    app_version: appVersion,
    country,
  },
  required: ['user_uuid', 'notification_id', 'campaign', 'device'],
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
