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
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const flat = flatCanonical(value as Record<string, unknown>);
    if (flat !== undefined) return flat;
  }
  return JSON.stringify(sortedCopy(value)) ?? 'null';
}

/** One key set of an object (in its enumeration order), with what the flat path writes for it. */
interface Shape {
  keys: string[];
  /** The keys in canonical order; null when the general path must handle this key set. */
  sorted: string[] | null;
  /** `{"key":` / `,"key":` for each sorted key. */
  heads: string[];
}

/**
 * Key sets seen, by their size: producers send few (one or two per event name), so a short
 * scan comparing keys (interned strings) finds one cheaper than a joined-keys lookup would.
 * Bounded so that odd producers cannot grow it.
 */
const shapes = new Map<number, Shape[]>();
const MAX_SHAPES_PER_SIZE = 64;

function shapeOf(keys: string[]): Shape {
  let list = shapes.get(keys.length);
  if (list === undefined) {
    list = [];
    shapes.set(keys.length, list);
  }
  scan: for (const shape of list) {
    const known = shape.keys;
    for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) continue scan;
    return shape;
  }
  // __proto__ as an own key is special in the copy (it sets the prototype): general path.
  const sorted = keys.includes('__proto__') ? null : enumerationOrder(keys.slice().sort());
  const shape: Shape = {
    keys,
    sorted,
    heads: sorted ? sorted.map((k, i) => `${i === 0 ? '{' : ','}${jsonString(k)}:`) : [],
  };
  if (list.length >= MAX_SHAPES_PER_SIZE) list.length = 0;
  list.push(shape);
  return shape;
}

/**
 * The canonical text of an object whose values are all strings, finite numbers, booleans or
 * null (event_specifics, nearly always), written directly from a cached sorted key order: the
 * same text as the general path without building a sorted copy. Undefined when the object is
 * not flat, so that the caller takes the general path.
 */
function flatCanonical(record: Record<string, unknown>): string | undefined {
  const shape = shapeOf(Object.keys(record));
  const { sorted, heads } = shape;
  if (sorted === null) return undefined;
  if (sorted.length === 0) return '{}';
  let text = '';
  for (let i = 0; i < sorted.length; i++) {
    const v = record[sorted[i]!];
    let t: string;
    if (typeof v === 'string') t = jsonString(v);
    else if (typeof v === 'number') t = Number.isFinite(v) ? String(v) : 'null';
    else if (typeof v === 'boolean') t = v ? 'true' : 'false';
    else if (v === null) t = 'null';
    else return undefined;
    text += heads[i]! + t;
  }
  return `${text}}`;
}

/** The order in which an object built with these keys in this order enumerates them (integer-like keys first). */
function enumerationOrder(keys: string[]): string[] {
  const probe: Record<string, true> = {};
  for (const key of keys) probe[key] = true;
  return Object.keys(probe);
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
  const keys = Object.keys(record).sort();
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    const v = record[key];
    copy[key] = v !== null && typeof v === 'object' ? sortedCopy(v) : v;
  }
  return copy;
}
