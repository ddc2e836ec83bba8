import { createHash } from 'node:crypto';
import type { EventDefinition } from '../events/catalog.js';
import type { InputEvent, QuarantineReason } from '../events/types.js';
import { type Violation, validateEvent } from '../events/validate.js';
import { scrubBytes, scrubText, withoutPersonal } from './scrub.js';

/** A record that decoded into a valid event of the catalog. */
export interface DecodedEvent {
  ok: true;
  event: InputEvent;
  definition: EventDefinition;
  createdAtMs: number;
  /** Hash of the canonical payload: same event sent twice = same fingerprint, whatever key order. */
  fingerprint: string;
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
}

export type Decoded = DecodedEvent | DecodeFailure;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** base64 -> strict UTF-8 -> JSON -> envelope and schema checks of the catalog. */
export function decodeRecord(data: string): Decoded {
  const bytes = Buffer.from(data, 'base64');
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
    });
  }
  return {
    ok: true,
    event: result.event,
    definition: result.definition,
    createdAtMs: result.createdAtMs,
    fingerprint: fingerprintOf(value),
  };
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
    ...fields,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** sha256 of the canonical JSON (keys sorted at every depth), 128 bits in base64url. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 22);
}

/** JSON with object keys sorted at every depth, so key order does not change the fingerprint. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}
