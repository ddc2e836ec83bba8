import { PERSONAL_FIELDS } from '../events/catalog.js';

// Personal names (PERSONAL_FIELDS) never reach the lake, not even in quarantine. Parsed values
// lose the keys; text that cannot be parsed has the values masked by a regex, which also works
// on bytes that are not UTF-8 (read as latin1, one char per byte, so the rest is kept intact).

const personal = new Set(PERSONAL_FIELDS);

/** Placeholder for a personal value in text that could not be parsed. */
export const REMOVED = '[removed]';

/**
 * The value without personal fields at any depth. Returns the value itself when it holds none
 * (the common case, no copy), else a copy; never mutates the input.
 */
export function withoutPersonal<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const s = withoutPersonal(v);
      if (s !== v) {
        copy ??= value.slice();
        copy[i] = s;
      }
    }
    return (copy ?? value) as T;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    if (personal.has(key)) {
      // The first personal key copies without them all; one met after a nested change is deleted.
      if (copy === undefined) copy = withoutKeys(record);
      else delete copy[key];
      continue;
    }
    const v = record[key];
    if (v !== null && typeof v === 'object') {
      const s = withoutPersonal(v);
      if (s !== v) {
        copy ??= { ...record };
        copy[key] = s;
      }
    }
  }
  return (copy ?? record) as T;
}

/**
 * A copy of the object without its personal keys, in the same key order. Built key by key rather
 * than copied and then deleted from: a delete turns the copy into a slow dictionary object.
 */
function withoutKeys(record: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (personal.has(key)) continue;
    // As the spread would: __proto__ becomes an own property, not the prototype.
    if (key === '__proto__')
      Object.defineProperty(copy, key, {
        value: record[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else copy[key] = record[key];
  }
  return copy;
}

const escaped = PERSONAL_FIELDS.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
// "name" : "any string, escapes allowed, maybe unterminated"  or  "name": <bare token>
const PERSONAL_IN_TEXT = new RegExp(
  `("(?:${escaped})"\\s*:\\s*)(?:"(?:[^"\\\\]|\\\\.)*"?|[^,}\\]\\s]+)`,
  'g',
);

/** Text (not valid JSON) with the values of personal fields masked. */
export function scrubText(text: string): string {
  return text.replace(PERSONAL_IN_TEXT, `$1"${REMOVED}"`);
}

/** Bytes (not valid UTF-8) with the values of personal fields masked, other bytes unchanged. */
export function scrubBytes(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const scrubbed = scrubText(text);
  return scrubbed === text ? bytes : Buffer.from(scrubbed, 'latin1');
}
