// Canonical JSON: object keys sorted at every depth, no whitespace, so that the same event
// serialised with its keys in another order has the same text, hence the same fingerprint.

// Characters JSON.stringify would escape (any surrogate: lone ones it writes as \u escapes).
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as a JSON string literal; the common case (nothing to escape) without a C++ call. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * JSON text of a parsed JSON value with the keys of every object sorted, whatever order they
 * came in. Integer-like keys ("7") come first in ascending order, as JavaScript enumerates them;
 * that is still one text per value, which is all a fingerprint needs.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedCopy(value)) ?? 'null';
}

/** One key set of an object (in its enumeration order) and the same keys sorted. */
interface Shape {
  keys: string[];
  sorted: string[];
}

/**
 * Key sets seen, by their size: producers send few (one or two per event name), so a short
 * scan comparing keys (interned strings) finds the sorted order without sorting. Bounded so
 * that odd producers cannot grow it.
 */
const shapes = new Map<number, Shape[]>();
const MAX_SHAPES_PER_SIZE = 64;

function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  let list = shapes.get(keys.length);
  if (list === undefined) {
    list = [];
    shapes.set(keys.length, list);
  }
  scan: for (const shape of list) {
    const known = shape.keys;
    for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) continue scan;
    return shape.sorted;
  }
  const sorted = keys.slice().sort();
  if (list.length >= MAX_SHAPES_PER_SIZE) list.length = 0;
  list.push({ keys, sorted });
  return sorted;
}

/**
 * The value with the keys of every object inserted in sorted order, so that JSON.stringify
 * (native, one allocation for the text) writes them sorted. Objects of one event name share one
 * key order, hence one hidden class, so the copies are cheap.
 */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record);
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    const v = record[key];
    copy[key] = v !== null && typeof v === 'object' ? sortedCopy(v) : v;
  }
  return copy;
}
