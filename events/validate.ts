import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CATALOG, EVENT_NAMES, type EventDefinition, eventDefinition, isEventName } from './catalog.js';
import { ANNOTATION_KEYWORDS, envelopeSchema, specificsSchemas } from './schemas.js';
import type { InputEvent } from './types.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
  formats: string[],
) => Ajv;

/** One violation, with the JSON pointer of the offending value (`/event_specifics/score`). */
export interface Violation {
  path: string;
  message: string;
}

export type ValidationFailure = {
  ok: false;
  reason: 'schema_violation' | 'unknown_event';
  errors: Violation[];
};

export type ValidationSuccess = {
  ok: true;
  event: InputEvent;
  definition: EventDefinition;
  /** created_at as epoch milliseconds, whichever form the producer used. */
  createdAtMs: number;
};

export type ValidationResult = ValidationSuccess | ValidationFailure;

/** 1 for the hex digits, by UTF-16 code unit: one load per character, no range check. */
const HEX = new Uint8Array(65_536);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
const URN = 'urn:uuid:';
/**
 * ajv-formats' uuid, /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i, as loads of
 * char codes: the same strings pass (the i flag folds ASCII only), at a fraction of the cost of
 * the regex, which runs for several fields of every event.
 */
export function isUuid(s: string): boolean {
  let start = 0;
  if (s.length === 36 + URN.length) {
    for (let i = 0; i < URN.length; i++) {
      const c = s.charCodeAt(i);
      const u = URN.charCodeAt(i);
      // A letter of the prefix in either ASCII case (0x20 apart); ':' as is.
      if (c !== u && !(u >= 0x61 && u <= 0x7a && c === u - 0x20)) return false;
    }
    start = URN.length;
  } else if (s.length !== 36) return false;
  if (
    s.charCodeAt(start + 8) !== 0x2d ||
    s.charCodeAt(start + 13) !== 0x2d ||
    s.charCodeAt(start + 18) !== 0x2d ||
    s.charCodeAt(start + 23) !== 0x2d
  ) {
    return false;
  }
  return (
    hexRun(s, start, start + 8) &&
    hexRun(s, start + 9, start + 13) &&
    hexRun(s, start + 14, start + 18) &&
    hexRun(s, start + 19, start + 23) &&
    hexRun(s, start + 24, start + 36)
  );
}

function hexRun(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (HEX[s.charCodeAt(i)] !== 1) return false;
  return true;
}

const ajv = new Ajv({
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  keywords: [...ANNOTATION_KEYWORDS],
});
addFormats(ajv, ['date-time']);
ajv.addFormat('uuid', { type: 'string', validate: isUuid });

const validateEnvelope = ajv.compile(envelopeSchema);
const validateSpecifics = new Map<string, ValidateFunction>(
  Object.entries(specificsSchemas).map(([name, schema]) => [name, ajv.compile(schema)]),
);

// Compile every schema up front so a bad schema fails at start, not on the first event of its kind.
for (const d of CATALOG) if (!validateSpecifics.has(d.schema)) throw new Error(`no schema ${d.schema}`);

/** A format as ajv holds it (a function, a RegExp, or either under `validate`), as a test. */
function formatTest(name: string): (s: string) => boolean {
  const format = ajv.formats[name];
  const test = typeof format === 'object' && !(format instanceof RegExp) ? format.validate : format;
  if (typeof test === 'function') return test as (s: string) => boolean;
  if (test instanceof RegExp) return (s) => test.test(s);
  throw new Error(`format ${name} is not a string test`);
}
/** ajv's own date-time test: the envelope's fast path accepts the same ISO strings. */
const isDateTime = formatTest('date-time');

function violations(errors: ErrorObject[] | null | undefined, prefix = ''): Violation[] {
  return (errors ?? []).map((e) => {
    const missing =
      e.keyword === 'required' ? `/${(e.params as { missingProperty: string }).missingProperty}` : '';
    const extra =
      e.keyword === 'enum' ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : '';
    return {
      path: `${prefix}${e.instancePath}${missing}` || '/',
      message: `${e.message ?? e.keyword}${extra}`,
    };
  });
}

/**
 * Validates a parsed event: the envelope, that the name is in the catalog, then the specifics
 * against the name's schema. Returns every violation, not just the first.
 */
export function validateEvent(value: unknown): ValidationResult {
  if (!plainEnvelope(value) && !validateEnvelope(value)) {
    const errors = violations(validateEnvelope.errors);
    // A oneOf failure on created_at reports each branch; one clear line reads better. A missing
    // created_at keeps its own line.
    const compact = errors.filter(
      (e) => e.path !== '/created_at' || e.message === ONE_OF || e.message.startsWith('must have required'),
    );
    return { ok: false, reason: 'schema_violation', errors: compact.map(clarifyCreatedAt) };
  }
  const event = value as {
    event_uuid: string;
    created_at: number | string;
    event_name: string;
    event_specifics: unknown;
  };
  const definition = eventDefinition(event.event_name);
  if (!definition) {
    return {
      ok: false,
      reason: 'unknown_event',
      errors: [{ path: '/event_name', message: `unknown event name "${event.event_name}"` }],
    };
  }
  const createdAtMs =
    typeof event.created_at === 'number' ? event.created_at * 1000 : Date.parse(event.created_at);
  if (!Number.isFinite(createdAtMs)) {
    return {
      ok: false,
      reason: 'schema_violation',
      errors: [{ path: '/created_at', message: 'not a valid time' }],
    };
  }
  const check = validateSpecifics.get(definition.schema)!;
  if (!check(event.event_specifics)) {
    return { ok: false, reason: 'schema_violation', errors: violations(check.errors, '/event_specifics') };
  }
  return { ok: true, event: value as InputEvent, definition, createdAtMs };
}

const EVENT_NAME_PATTERN = new RegExp(envelopeSchema.properties.event_name.pattern);
// A catalog name matches the envelope's pattern, so the envelope check can take a known name
// without the regex (checked here, once, so that a new catalog name cannot break it).
for (const name of EVENT_NAMES) {
  if (!EVENT_NAME_PATTERN.test(name))
    throw new Error(`catalog name ${name} does not match the envelope pattern`);
}

/**
 * True only for an envelope that envelopeSchema accepts: checked directly, because ajv with
 * allErrors builds an error object for the oneOf branch of created_at that does not match, on
 * every event. The date-time test is ajv's own. False means "ask ajv", which also gives the
 * violations; this never accepts what ajv would reject.
 */
function plainEnvelope(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  const createdAt = e.created_at;
  const specifics = e.event_specifics;
  return (
    typeof e.event_uuid === 'string' &&
    isUuid(e.event_uuid) &&
    (typeof createdAt === 'number'
      ? Number.isFinite(createdAt) && createdAt >= 0
      : typeof createdAt === 'string' && isDateTime(createdAt)) &&
    typeof e.event_name === 'string' &&
    (isEventName(e.event_name) || EVENT_NAME_PATTERN.test(e.event_name)) &&
    specifics !== null &&
    typeof specifics === 'object' &&
    !Array.isArray(specifics)
  );
}

const ONE_OF = 'must match exactly one schema in oneOf';

function clarifyCreatedAt(v: Violation): Violation {
  return v.path === '/created_at' && v.message === ONE_OF
    ? { path: v.path, message: 'must be epoch seconds (number) or an ISO-8601 date-time string' }
    : v;
}
