import { hash } from 'node:crypto';
import { type EventDefinition, PERSONAL_FIELDS } from '../events/catalog.js';
import { specificsSchemas } from '../events/schemas.js';
import type { QuarantineReason } from '../events/types.js';
import { type Violation, validateEvent } from '../events/validate.js';
import { canonicalJson } from './canonical.js';
import { isViolation, PIPELINE_KEY_PREFIX, type ReplayTag, takeReplayTag } from './replay-tag.js';
import { scrubBytes, scrubText, withoutPersonal } from './scrub.js';
import type { StateChange } from './state.js';

/**
 * A record that decoded into a valid event of the catalog: only what the later steps need, not
 * the parsed tree, so that it dies young (a batch lives across DynamoDB calls, and parsed trees
 * kept that long get promoted to the old generation, which costs more GC than the rest of the
 * work). The rare quarantine that needs the payload decodes the record again (payloadOf).
 */
export interface DecodedEvent {
  ok: true;
  uuid: string;
  name: string;
  definition: EventDefinition;
  createdAtMs: number;
  /** The lake's user_uuid and language columns (catalog userField / languageField). */
  userUuid: string | null;
  language: string | null;
  /** user / subscription events: the new state. */
  state: StateChange | null;
  /** Hash of the canonical payload: same event sent twice = same fingerprint, whatever key order. */
  fingerprint: string;
  /** event_specifics without personal fields, as canonical JSON text, for the output line. */
  specificsJson: string;
  /** What the catalog does not name (see extrasOf), as canonical JSON text, or null. */
  extrasJson: string | null;
  /** Sent by `firelake replay` (transform/replay-tag.ts); null for live events. */
  replay: ReplayTag | null;
}

/** A record that cannot be staged, with what quarantine needs to show and replay it. */
export interface DecodeFailure {
  ok: false;
  reason: Extract<QuarantineReason, 'invalid_utf8' | 'invalid_json' | 'schema_violation' | 'unknown_event'>;
  errors: Violation[];
  /** Original text, personal fields removed (null when not UTF-8). */
  payload: string | null;
  /** Original bytes in base64, personal values masked, when not UTF-8. */
  payloadBase64: string | null;
  eventUuid: string | null;
  eventName: string | null;
  createdAtMs: number | null;
  replay: ReplayTag | null;
}

export type Decoded = DecodedEvent | DecodeFailure;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Records are decoded here, one after the other: no pooled buffer per record, text is copied out. */
const scratch = Buffer.allocUnsafe(256 * 1024);

/** The bytes of a base64 record, as Buffer.from(data, 'base64'); valid until the next call. */
function base64Bytes(data: string): Buffer {
  // The same estimate (and so the same bytes) as Buffer.from; larger records allocate.
  const estimate = Buffer.byteLength(data, 'base64');
  if (estimate > scratch.length) return Buffer.from(data, 'base64');
  return scratch.subarray(0, scratch.write(data, 0, estimate, 'base64'));
}

/** base64 -> strict UTF-8 -> JSON -> envelope and schema checks of the catalog. */
export function decodeRecord(data: string): Decoded {
  const bytes = base64Bytes(data);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return failure('invalid_utf8', [{ path: '/', message: 'record is not valid UTF-8' }], {
      payloadBase64: scrubBytes(bytes).toString('base64'),
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return failure('invalid_json', [{ path: '/', message: (error as Error).message }], {
      payload: scrubText(text),
    });
  }
  // Taken out before validation and the fingerprint: a replayed record equal to a live one is its duplicate.
  const replay = takeReplayTag(value);
  if (isViolation(replay)) {
    return failure('schema_violation', [replay], { payload: JSON.stringify(withoutPersonal(value)) });
  }
  const result = validateEvent(value);
  if (!result.ok) {
    const envelope = isObject(value) ? value : {};
    const createdAt = envelope.created_at;
    const createdAtMs =
      typeof createdAt === 'number'
        ? createdAt * 1000
        : typeof createdAt === 'string'
          ? Date.parse(createdAt)
          : NaN;
    return failure(result.reason, result.errors, {
      payload: JSON.stringify(withoutPersonal(value)),
      eventUuid: typeof envelope.event_uuid === 'string' ? envelope.event_uuid : null,
      eventName: typeof envelope.event_name === 'string' ? envelope.event_name : null,
      createdAtMs: Number.isFinite(createdAtMs) ? createdAtMs : null,
      replay,
    });
  }
  const { event, definition, createdAtMs } = result;
  const specifics = event.event_specifics as Record<string, unknown>;
  const scrubbed = withoutPersonal(specifics);
  const extras = extrasOf(value as Record<string, unknown>, scrubbed, KNOWN_FIELDS[definition.schema]);
  if (extras === RESERVED) {
    return failure(
      'schema_violation',
      [{ path: `/event_specifics/${ENVELOPE_EXTRAS}`, message: RESERVED_MESSAGE }],
      {
        payload: JSON.stringify(withoutPersonal(value)),
        eventUuid: event.event_uuid,
        eventName: event.event_name,
        createdAtMs,
      },
    );
  }
  // One canonical text of the whole event serves the fingerprint and (cut out of it) the
  // specifics of the output line.
  const canonical = canonicalJson(value);
  const specificsJson = specificsWithin(canonical, event) ?? canonicalJson(specifics);
  const userUuid = definition.userField ? stringOrNull(specifics[definition.userField]) : null;
  const language = definition.languageField ? stringOrNull(specifics[definition.languageField]) : null;
  return {
    ok: true,
    uuid: event.event_uuid,
    name: event.event_name,
    definition,
    createdAtMs,
    userUuid,
    language,
    state: stateChangeOf(definition, specifics, userUuid, language, {
      atMs: createdAtMs,
      uuid: event.event_uuid,
    }),
    fingerprint: fingerprintOfText(canonical),
    specificsJson: scrubbed === specifics ? specificsJson : canonicalJson(scrubbed),
    extrasJson: extras,
    replay,
  };
}

/** Specifics fields each schema names: the others go to `extras`. */
const KNOWN_FIELDS = Object.fromEntries(
  Object.entries(specificsSchemas).map(([name, schema]) => [name, new Set(Object.keys(schema.properties))]),
) as Record<keyof typeof specificsSchemas, Set<string>>;
const ENVELOPE_FIELDS = new Set(['event_uuid', 'created_at', 'event_name', 'event_specifics']);
const PERSONAL = new Set(PERSONAL_FIELDS);
/** The key of `extras` that holds the envelope's unknown top-level keys. */
export const ENVELOPE_EXTRAS = '_envelope';
const RESERVED = Symbol('reserved');
const RESERVED_MESSAGE = `"${ENVELOPE_EXTRAS}" is reserved (curated extras keep the envelope's unknown keys under it)`;

/**
 * The fields the catalog does not name, which curated keeps in its `extras` column (docs/design.md):
 * the event_specifics fields the event's schema does not list, by name, and the envelope's
 * unknown top-level keys under `_envelope` (so a reader, and a backfill, can tell the two
 * apart). Personal fields are removed at any depth; keys starting with `_firelake` belong to the
 * pipeline. Canonical JSON text, or null when there is nothing (most events: one pass over the
 * keys, no allocation).
 */
export function extrasOf(
  event: Record<string, unknown>,
  specifics: Record<string, unknown>,
  known: ReadonlySet<string>,
): string | null | typeof RESERVED {
  let fields: [string, unknown][] | undefined;
  for (const key in specifics) {
    if (known.has(key)) continue;
    if (key === ENVELOPE_EXTRAS) return RESERVED;
    fields ??= [];
    fields.push([key, specifics[key]]);
  }
  let envelope: [string, unknown][] | undefined;
  for (const key in event) {
    if (ENVELOPE_FIELDS.has(key) || PERSONAL.has(key) || key.startsWith(PIPELINE_KEY_PREFIX)) continue;
    envelope ??= [];
    envelope.push([key, withoutPersonal(event[key])]);
  }
  if (fields === undefined && envelope === undefined) return null;
  // fromEntries defines own properties: a "__proto__" key stays a key.
  const extras = Object.fromEntries(fields ?? []);
  if (envelope)
    Object.defineProperty(extras, ENVELOPE_EXTRAS, { value: Object.fromEntries(envelope), enumerable: true });
  return canonicalJson(extras);
}

/** The record's JSON again, personal fields removed: for quarantine lines of valid events. */
export function payloadOf(data: string): string {
  const value: unknown = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  takeReplayTag(value); // the quarantine line carries it as replayed_from
  return JSON.stringify(withoutPersonal(value));
}

function stateChangeOf(
  definition: EventDefinition,
  s: Record<string, unknown>,
  userUuid: string | null,
  language: string | null,
  version: { atMs: number; uuid: string },
): StateChange | null {
  // Schema-validated: the fields are there with their types. Only what enrichment needs.
  if (definition.role === 'user' && userUuid) {
    return {
      kind: 'user',
      userUuid,
      state: { version, country: s.country as string, active: s.active === true },
    };
  }
  if (definition.role === 'subscription' && userUuid && language) {
    return {
      kind: 'subscription',
      userUuid,
      language,
      state: {
        version,
        status: s.subscription_status as string,
        type: s.subscription_type as string,
        period: s.subscription_period as number,
      },
    };
  }
  return null;
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function failure(
  reason: DecodeFailure['reason'],
  errors: Violation[],
  fields: Partial<Omit<DecodeFailure, 'ok' | 'reason' | 'errors'>>,
): DecodeFailure {
  return {
    ok: false,
    reason,
    errors,
    payload: null,
    payloadBase64: null,
    eventUuid: null,
    eventName: null,
    createdAtMs: null,
    replay: null,
    ...fields,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const ENVELOPE_KEYS = 4;
const SPECIFICS_KEY = '"event_specifics":';
const UUID_KEY = ',"event_uuid":';

/**
 * The text of event_specifics inside the canonical text of a valid event, when the envelope has
 * its four keys only: `{"created_at":…,"event_name":"…","event_specifics":{…},"event_uuid":"…"}`
 * (sorted). Neither created_at (a number or a date-time) nor event_name (its pattern) can hold
 * the key text, and a valid event_uuid needs no escaping, so both ends are known. A slice, not
 * a copy. Null when there are other keys: then the caller writes the specifics on their own.
 */
export function specificsWithin(canonical: string, event: { event_uuid: string }): string | null {
  if (Object.keys(event).length !== ENVELOPE_KEYS) return null;
  const start = canonical.indexOf(SPECIFICS_KEY) + SPECIFICS_KEY.length;
  const end = canonical.length - (UUID_KEY.length + event.event_uuid.length + 3);
  return canonical.slice(start, end);
}

/**
 * sha256 of the canonical JSON of the whole record (keys sorted at every depth), 128 bits in
 * base64url: the same event sent twice has the same fingerprint, whatever its key order.
 */
export function fingerprintOf(value: unknown): string {
  return fingerprintOfText(canonicalJson(value));
}

function fingerprintOfText(canonical: string): string {
  return hash('sha256', canonical, 'base64url').slice(0, 22);
}
