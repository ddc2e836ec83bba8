import type { Violation } from '../events/validate.js';

// The replay tag: `firelake replay` (replay/) sends each record with one reserved top-level key,
// `_firelake_replay`, saying where the record came from. Top-level keys starting with
// `_firelake` belong to the pipeline, not to producers. The transform takes the tag out of the
// event before anything else looks at it (validation, fingerprint, extras), so a replayed record
// equal to a live one has the same fingerprint and is its duplicate, and lifts its origin into
// the staging line's (or quarantine line's) `replayed_from`.
//
//   "_firelake_replay": {
//     "from": "quarantine/year=2026/.../firelake-events-1-...gz#12",  object key and line (1-based)
//     "allow_late": true,        accept an event older than the late window (--allow-late)
//     "arrival": 1764072000123   the failed delivery's arrival (errors/ records): its dedup marker
//   }                            may be taken over, see transform/dedup.ts

/** Top-level keys the pipeline itself adds to a payload: never a producer's field, never extras. */
export const PIPELINE_KEY_PREFIX = '_firelake';
export const REPLAY_KEY = `${PIPELINE_KEY_PREFIX}_replay`;

export interface ReplayTag {
  /** `<object key>#<line>`: the staging line's and curated row's `replayed_from`. */
  from: string;
  allowLate: boolean;
  /** Arrival (epoch ms) of the delivery that failed, for a record of errors/. */
  originalArrivalMs: number | null;
}

/** The tag as the replay writes it into a record. */
export function replayTagValue(tag: ReplayTag): Record<string, unknown> {
  return {
    from: tag.from,
    ...(tag.allowLate ? { allow_late: true } : {}),
    ...(tag.originalArrivalMs !== null ? { arrival: tag.originalArrivalMs } : {}),
  };
}

/**
 * Takes the replay tag out of a parsed record (the key is deleted): null when there is none (one
 * property load on a live event, no key count), a violation when the key holds no valid tag.
 */
export function takeReplayTag(value: unknown): ReplayTag | Violation | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const raw = record[REPLAY_KEY];
  if (raw === undefined) return null;
  delete record[REPLAY_KEY];
  const t = raw as Record<string, unknown> | null;
  const from = t !== null && typeof t === 'object' && !Array.isArray(t) ? t.from : undefined;
  const arrival = t?.arrival;
  if (
    typeof from !== 'string' ||
    from === '' ||
    from.length > 2048 ||
    (t!.allow_late !== undefined && typeof t!.allow_late !== 'boolean') ||
    (arrival !== undefined && !(typeof arrival === 'number' && Number.isSafeInteger(arrival) && arrival >= 0))
  ) {
    return {
      path: `/${REPLAY_KEY}`,
      message:
        'reserved for firelake replay: must be {"from": "<key>#<line>", "allow_late"?: boolean, "arrival"?: epoch ms}',
    };
  }
  return {
    from,
    allowLate: t!.allow_late === true,
    originalArrivalMs: typeof arrival === 'number' ? arrival : null,
  };
}

export function isViolation(tag: ReplayTag | Violation | null): tag is Violation {
  return tag !== null && 'path' in tag;
}
