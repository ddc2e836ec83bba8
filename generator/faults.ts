import { type EventName, specificsSchemaOf } from '../events/catalog.js';
import { FIREHOSE_LIMITS } from '../lake/delivery.js';
import type { Random } from './random.js';
import type { BadKind } from './stats.js';

// Bad input, one kind at a time, made from a valid event line. The valid lines come from a
// shadow world (its own users and sessions): the real world's state must not change for an
// event the lake will quarantine, or later events would refer to a user the lake never saw.

const DAY_MS = 86_400_000;
/** Future timestamps: 1 to 30 days ahead, beyond any clock skew a transform tolerates. */
export const FUTURE_MIN_MS = DAY_MS;
export const FUTURE_MAX_MS = 30 * DAY_MS;
/** Too old: 8 to 90 days behind, past the lake's 7-day late window. */
export const TOO_OLD_MIN_MS = 8 * DAY_MS;
export const TOO_OLD_MAX_MS = 90 * DAY_MS;

/** Names that look right (`type:subtype`) but are not in the catalog. */
export const UNKNOWN_NAMES = ['lesson:skipped', 'game:abandoned', 'purchase:completed', 'streak:extended'];

/** How often each bad kind is drawn. Oversized records are 1 MB each: rare, or a run at 1%
 * bad would write gigabytes of padding. */
export const BAD_KIND_WEIGHTS: Record<BadKind, number> = {
  invalid_json: 1,
  invalid_utf8: 1,
  wrong_type: 1,
  missing_field: 1,
  unknown_event: 1,
  future_timestamp: 1,
  too_old: 1,
  oversized: 0.01,
};

interface ParsedEvent {
  event_uuid: string;
  created_at: number | string;
  event_name: string;
  event_specifics: Record<string, unknown>;
}

/** `line` (a valid event at event time `t`) turned into bad input of `kind`. */
export function corrupt(kind: BadKind, line: string, t: number, random: Random): string | Buffer {
  switch (kind) {
    case 'invalid_json':
      // A prefix of a JSON object without its closing brace never parses.
      return line.slice(0, 20 + random.int(line.length - 21));
    case 'invalid_utf8': {
      // 0xC3 opens a two-byte sequence; 0x28 cannot continue it. Placed inside event_uuid.
      const at = '{"event_uuid":"'.length + random.int(30);
      return Buffer.concat([
        Buffer.from(line.slice(0, at)),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(line.slice(at)),
      ]);
    }
    default:
      return JSON.stringify(mutate(kind, JSON.parse(line) as ParsedEvent, t, random));
  }
}

function mutate(kind: BadKind, event: ParsedEvent, t: number, random: Random): unknown {
  const schema = specificsSchemaOf(event.event_name as EventName);
  switch (kind) {
    case 'wrong_type': {
      const field = random.pick(schema.required);
      const property = (schema.properties as Record<string, { type: string }>)[field]!;
      event.event_specifics[field] =
        property.type === 'string'
          ? random.int(100_000)
          : property.type === 'boolean'
            ? 'yes'
            : String(random.int(100));
      return event;
    }
    case 'missing_field':
      delete event.event_specifics[random.pick(schema.required)];
      return event;
    case 'unknown_event':
      event.event_name = random.pick(UNKNOWN_NAMES);
      return event;
    case 'future_timestamp':
      event.created_at = (t + FUTURE_MIN_MS + random.int(FUTURE_MAX_MS - FUTURE_MIN_MS)) / 1000;
      return event;
    case 'too_old':
      event.created_at = (t - TOO_OLD_MIN_MS - random.int(TOO_OLD_MAX_MS - TOO_OLD_MIN_MS)) / 1000;
      return event;
    case 'oversized':
      // Valid in every other way: only its size is wrong.
      event.event_specifics.padding = 'x'.repeat(FIREHOSE_LIMITS.maxRecordBytes + 1 + random.int(64 * 1024));
      return event;
    default:
      throw new Error(`no mutation for ${kind}`);
  }
}
