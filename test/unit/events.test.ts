import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CATALOG,
  EVENT_NAMES,
  type EventName,
  eventDefinition,
  PERSONAL_FIELDS,
  splitEventName,
} from '../../events/catalog.js';
import { curatedColumns, specificsFields } from '../../events/curated.js';
import { specificsSchemas } from '../../events/schemas.js';
import { isUuid, validateEvent } from '../../events/validate.js';
import { SCHEMA_DIR, schemaFiles } from '../../events/write-schemas.js';

// Hand-written examples (not from the generator, so the catalog is tested on its own).
const USER = '0b7e6c52-3f4a-4d8e-9f3b-1c2d3e4f5a6b';
const SESSION = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const COURSE = 'c0c0c0c0-1111-4222-8333-444455556666';
const OTHER = 'd7ca46d5-80b5-4b81-bf5b-c96a60c4c573';

const SPECIFICS: Record<EventName, Record<string, unknown>> = {
  'user:created': {
    operation: 'create',
    name: 'Ada Lovelace',
    uuid: USER,
    firstname: 'Ada',
    lastname: 'Lovelace',
    country: 'GB',
    active: true,
  },
  'user:updated': { operation: 'update', uuid: USER, country: 'FR', active: false },
  'subscription:created': {
    operation: 'create',
    name: 'Spanish premium',
    user_uuid: USER,
    language: 'es',
    subscription_status: 'trial',
    subscription_type: 'premium',
    subscription_period: 14,
  },
  'subscription:updated': {
    user_uuid: USER,
    language: 'es',
    subscription_status: 'active',
    subscription_type: 'premium',
    subscription_period: 30,
  },
  'lesson:completed': {
    content_release_id: '2026.47.0',
    title: 'Greetings 3',
    language: 'es',
    course_uuid: COURSE,
    course_title: 'Spanish A1: Greetings',
    number_of_lessons_in_course: 12,
    completed_lessons_in_course: 3,
    percentage_completed_in_course: 25,
    user_uuid: USER,
  },
  'game:started': {
    user_uuid: USER,
    session_id: SESSION,
    device: 'iOS',
    language_id: 'ru',
    difficulty: 'Hard',
  },
  'game:resumed': {
    user_uuid: USER,
    session_id: SESSION,
    device: 'Android',
    language_id: 'ru',
    difficulty: 'Hard',
    attempts: 93,
  },
  'game:completed': {
    user_uuid: USER,
    session_id: SESSION,
    device: 'Web',
    app_version: '5.15.0',
    country: 'CH',
    language_id: 'ru',
    difficulty: 'Easy',
    score: 46,
    attempts: 93,
  },
  'session:started': { user_uuid: USER, session_id: SESSION, device: 'iOS', app_version: '5.15.0' },
  'session:ended': {
    user_uuid: USER,
    session_id: SESSION,
    device: 'iOS',
    app_version: '5.15.0',
    duration: 312.5,
  },
  'app:installed': {
    install_id: OTHER,
    device: 'Android',
    app_version: '5.15.0',
    country: 'BR',
    store: 'play_store',
  },
  'notification:sent': {
    user_uuid: USER,
    notification_id: OTHER,
    campaign: 'streak_at_risk',
    device: 'iOS',
  },
  'notification:opened': {
    user_uuid: USER,
    notification_id: OTHER,
    campaign: 'streak_at_risk',
    device: 'iOS',
    app_version: '5.15.0',
  },
};

function example(name: EventName, overrides: Record<string, unknown> = {}) {
  return {
    event_uuid: '46a7d002-805e-44e7-9888-b1f8a7b4d973',
    created_at: 1795132800.123,
    event_name: name,
    event_specifics: structuredClone(SPECIFICS[name]),
    ...overrides,
  };
}

function rejected(value: unknown) {
  const result = validateEvent(value);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(value)}`);
  return result;
}

describe('event catalog', () => {
  it.each(EVENT_NAMES)('accepts a valid %s event', (name) => {
    const result = validateEvent(example(name));
    expect(result.ok ? result.definition.name : result.errors).toBe(name);
  });

  it('names every event type:subtype, with both parts', () => {
    for (const name of EVENT_NAMES) {
      expect(name).toMatch(/^[a-z_]+:[a-z_]+$/);
      const { type, subtype } = splitEventName(name);
      expect(`${type}:${subtype}`).toBe(name);
    }
  });

  it('takes user_uuid and language from fields its schema defines', () => {
    for (const d of CATALOG) {
      const properties = Object.keys(specificsSchemas[d.schema].properties);
      if (d.userField) expect(properties).toContain(d.userField);
      if (d.languageField) expect(properties).toContain(d.languageField);
    }
    expect(eventDefinition('lesson:completed')?.languageField).toBe('language');
    expect(eventDefinition('game:completed')?.languageField).toBe('language_id');
    expect(eventDefinition('user:created')?.userField).toBe('uuid');
    expect(eventDefinition('lesson:skipped')).toBeUndefined();
  });
});

describe('event validation', () => {
  it('takes exactly the UUIDs of the ajv-formats regex', () => {
    const regex = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
    const base = ['0b7e6c52-3f4a-4d8e-9f3b-1c2d3e4f5a6b', 'urn:uuid:0B7E6C52-3F4A-4D8E-9F3B-1C2D3E4F5A6B'];
    const replacements = [...'09afAFgG-: éａ\u0000\u0130'];
    const cases = ['', 'urn:uuid:', 'URN:UUID:0b7e6c52-3f4a-4d8e-9f3b-1c2d3e4f5a6b', ...base];
    for (const id of base) {
      for (let i = 0; i < id.length; i++) {
        for (const r of replacements) cases.push(id.slice(0, i) + r + id.slice(i + 1));
        cases.push(id.slice(0, i) + id.slice(i + 1), `${id.slice(0, i)}a${id.slice(i)}`);
      }
    }
    for (const s of cases) expect(isUuid(s), JSON.stringify(s)).toBe(regex.test(s));
  });

  it('accepts created_at as epoch seconds with a fraction and as an ISO-8601 string', () => {
    const epoch = validateEvent(example('session:started', { created_at: 1712844605.9512355 }));
    const iso = validateEvent(example('session:started', { created_at: '2024-04-11T14:10:05.951Z' }));
    const offset = validateEvent(example('session:started', { created_at: '2024-04-11T16:10:05.951+02:00' }));
    expect(epoch.ok && epoch.createdAtMs).toBeCloseTo(1712844605951.24, 1);
    expect(iso.ok && iso.createdAtMs).toBe(1712844605951);
    expect(offset.ok && offset.createdAtMs).toBe(1712844605951);
  });

  it('rejects an event_uuid that is not a UUID, with its path', () => {
    const r = rejected(example('user:created', { event_uuid: 'not-a-uuid' }));
    expect(r.reason).toBe('schema_violation');
    expect(r.errors).toEqual([{ path: '/event_uuid', message: 'must match format "uuid"' }]);
  });

  it.each([
    ['a boolean', true],
    ['a word', 'yesterday'],
    ['an impossible date', '2026-13-45T25:00:00Z'],
    ['a 30th of February', '2026-02-30T12:00:00Z'],
    ['a time without its zone', '2026-11-21T12:00:00'],
    ['a negative number', -5],
    ['null', null],
  ])('rejects created_at as %s with a clear reason', (_what, createdAt) => {
    const r = rejected(example('lesson:completed', { created_at: createdAt }));
    expect(r.reason).toBe('schema_violation');
    expect(r.errors).toEqual([
      { path: '/created_at', message: 'must be epoch seconds (number) or an ISO-8601 date-time string' },
    ]);
  });

  it.each(['lessoncompleted', 'Lesson:Completed', 'lesson:', ':completed', 'lesson:completed:v2'])(
    'rejects the event_name %j, which is not type:subtype',
    (name) => {
      const r = rejected(example('lesson:completed', { event_name: name }));
      expect(r.reason).toBe('schema_violation');
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]!.path).toBe('/event_name');
      expect(r.errors[0]!.message).toMatch(/pattern/);
    },
  );

  it('rejects an unknown event name as unknown_event, naming it', () => {
    const r = rejected(example('lesson:completed', { event_name: 'lesson:skipped' }));
    expect(r).toEqual({
      ok: false,
      reason: 'unknown_event',
      errors: [{ path: '/event_name', message: 'unknown event name "lesson:skipped"' }],
    });
  });

  it('rejects a missing field the pipeline needs with the path of the field', () => {
    const event = example('lesson:completed');
    delete event.event_specifics.language;
    const r = rejected(event);
    expect(r.reason).toBe('schema_violation');
    expect(r.errors).toEqual([
      { path: '/event_specifics/language', message: "must have required property 'language'" },
    ]);
  });

  it('accepts a lesson without the fields only analytics use (completeness reports them)', () => {
    const event = example('lesson:completed');
    delete event.event_specifics.course_uuid;
    delete event.event_specifics.title;
    expect(validateEvent(event).ok).toBe(true);
  });

  it('rejects a missing envelope field', () => {
    const { event_specifics: _, ...event } = example('session:started');
    expect(rejected(event).errors).toEqual([
      { path: '/event_specifics', message: "must have required property 'event_specifics'" },
    ]);
  });

  it('rejects a missing created_at saying it is missing', () => {
    const { created_at: _, ...event } = example('session:started');
    expect(rejected(event).errors).toEqual([
      { path: '/created_at', message: "must have required property 'created_at'" },
    ]);
  });

  it('rejects a field of the wrong type with its path and the expected type', () => {
    const event = example('game:completed');
    event.event_specifics.score = '46';
    expect(rejected(event).errors).toEqual([{ path: '/event_specifics/score', message: 'must be integer' }]);
    const user = example('user:updated');
    user.event_specifics.active = 'yes';
    expect(rejected(user).errors).toEqual([{ path: '/event_specifics/active', message: 'must be boolean' }]);
  });

  it('accepts any string in an open vocabulary and any number outside the business bounds', () => {
    const subscription = example('subscription:updated');
    subscription.event_specifics.subscription_status = 'paused';
    subscription.event_specifics.subscription_type = 'monthly';
    subscription.event_specifics.subscription_period = 0;
    subscription.event_specifics.user_uuid = 'user-42';
    expect(validateEvent(subscription).ok).toBe(true);
    const game = example('game:completed');
    game.event_specifics.device = 'Switch';
    game.event_specifics.difficulty = 'Nightmare';
    game.event_specifics.score = -3;
    game.event_specifics.country = 'Germany';
    expect(validateEvent(game).ok).toBe(true);
    const lesson = example('lesson:completed');
    lesson.event_specifics.percentage_completed_in_course = 140;
    expect(validateEvent(lesson).ok).toBe(true);
  });

  it('rejects what the stores cannot hold: an empty key, an overlong state value, an inexact integer', () => {
    const empty = example('subscription:updated');
    empty.event_specifics.language = '';
    expect(rejected(empty).errors).toEqual([
      { path: '/event_specifics/language', message: 'must NOT have fewer than 1 characters' },
    ]);
    const long = example('subscription:updated');
    long.event_specifics.subscription_status = 'x'.repeat(257);
    expect(rejected(long).errors[0]!.path).toBe('/event_specifics/subscription_status');
    const huge = example('lesson:completed');
    huge.event_specifics.number_of_lessons_in_course = 2 ** 60;
    expect(rejected(huge).errors[0]!.path).toBe('/event_specifics/number_of_lessons_in_course');
  });

  it('rejects specifics that are not an object', () => {
    expect(rejected(example('session:started', { event_specifics: 'x' })).errors).toEqual([
      { path: '/event_specifics', message: 'must be object' },
    ]);
  });

  it('reports every violation, not only the first', () => {
    const event = example('lesson:completed');
    event.event_specifics.percentage_completed_in_course = '25%';
    event.event_specifics.user_uuid = 42;
    delete event.event_specifics.language;
    const paths = rejected(event)
      .errors.map((e) => e.path)
      .sort();
    expect(paths).toEqual([
      '/event_specifics/language',
      '/event_specifics/percentage_completed_in_course',
      '/event_specifics/user_uuid',
    ]);
  });

  it('rejects values that are not events at all', () => {
    for (const value of [null, 42, 'event', [], [example('user:created')]]) {
      expect(rejected(value).reason).toBe('schema_violation');
    }
  });

  it('allows extra fields a newer producer adds', () => {
    const event = example('game:started');
    event.event_specifics.user_location = 'Vernier, France';
    expect(validateEvent(event).ok).toBe(true);
  });
});

describe('event schema files', () => {
  it('match events/schemas.ts (run `npm run schemas` after changing a schema)', () => {
    const expected = schemaFiles();
    const onDisk = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json'));
    expect(onDisk.sort()).toEqual(Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) {
      expect(readFileSync(join(SCHEMA_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('are draft-07 JSON Schemas', () => {
    for (const text of Object.values(schemaFiles())) {
      expect(JSON.parse(text).$schema).toBe('http://json-schema.org/draft-07/schema#');
    }
  });
});

describe("the app's original schemas", () => {
  // Field for field the app's user, subscription and lesson events, with their types.
  const ORIGINAL_SCHEMAS: Record<'user' | 'subscription' | 'lesson', Record<string, string>> = {
    user: {
      operation: 'string',
      name: 'string',
      uuid: 'string',
      firstname: 'string',
      lastname: 'string',
      country: 'string',
      active: 'boolean',
    },
    subscription: {
      operation: 'string',
      name: 'string',
      user_uuid: 'string',
      language: 'string',
      subscription_status: 'string',
      subscription_type: 'string',
      subscription_period: 'integer',
    },
    lesson: {
      content_release_id: 'string',
      title: 'string',
      language: 'string',
      course_uuid: 'string',
      course_title: 'string',
      number_of_lessons_in_course: 'integer',
      completed_lessons_in_course: 'integer',
      percentage_completed_in_course: 'integer',
      user_uuid: 'string',
    },
  };

  it.each(Object.keys(ORIGINAL_SCHEMAS) as (keyof typeof ORIGINAL_SCHEMAS)[])(
    'carry over every %s field with its type',
    (name) => {
      const properties = specificsSchemas[name].properties as Record<string, { type: string }>;
      const types = Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, p.type]));
      expect(types).toEqual(ORIGINAL_SCHEMAS[name]);
    },
  );
});

describe('curated schema derivation', () => {
  it('gives every specifics field one type across all events', () => {
    const fields = specificsFields();
    const byName = new Map(fields.map((f) => [f.name, f.type]));
    expect(byName.size).toBe(fields.length);
    expect(byName.get('score')).toBe('BIGINT');
    expect(byName.get('duration')).toBe('DOUBLE');
    expect(byName.get('active')).toBe('BOOLEAN');
    expect(byName.get('user_uuid')).toBe('VARCHAR');
    // Every field of every schema is there, except the personal ones.
    for (const schema of Object.values(specificsSchemas)) {
      for (const field of Object.keys(schema.properties)) {
        expect(byName.has(field)).toBe(!PERSONAL_FIELDS.includes(field));
      }
    }
  });

  it('puts the specifics struct and the staging columns in the curated table', () => {
    const columns = curatedColumns();
    expect(columns.map((c) => c.name)).toContain('event_specifics');
    expect(columns.find((c) => c.name === 'event_specifics')?.type).toMatch(/^STRUCT\(.*"score" BIGINT/);
    expect(columns.find((c) => c.name === 'created_at')?.type).toBe('TIMESTAMP');
  });
});
