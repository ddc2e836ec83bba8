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

/**
 * A copy of one object with its keys inserted in sorted order; `deep` copies the values that are
 * objects or arrays.
 */
type Copier = (record: Record<string, unknown>, deep: (value: object) => unknown) => Record<string, unknown>;

/** One key set of an object (in its enumeration order), how often seen, and its copier once compiled. */
interface Shape {
  keys: string[];
  seen: number;
  copy: Copier | undefined;
}

/**
 * Key sets seen, by their size: producers send few (one or two per event name), so a short
 * scan comparing keys (interned strings) finds the shape. Bounded so that odd producers cannot
 * grow it.
 */
const shapes = new Map<number, Shape[]>();
const MAX_SHAPES_PER_SIZE = 64;
/** A key set is compiled on its second sighting: one-off shapes never pay for a compile. */
const COMPILE_AFTER = 2;
/** Larger key sets keep the generic copy (a compiled body grows with the keys). */
const MAX_COMPILED_KEYS = 64;

function shapeOf(record: Record<string, unknown>): Shape {
  const keys = Object.keys(record);
  let list = shapes.get(keys.length);
  if (list === undefined) {
    list = [];
    shapes.set(keys.length, list);
  }
  scan: for (const shape of list) {
    const known = shape.keys;
    for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) continue scan;
    if (shape.copy === undefined && ++shape.seen >= COMPILE_AFTER) shape.copy = compileCopier(keys);
    return shape;
  }
  if (list.length >= MAX_SHAPES_PER_SIZE) list.length = 0;
  const shape: Shape = { keys, seen: 1, copy: undefined };
  list.push(shape);
  return shape;
}

/**
 * A copier for one key set: an object literal with the keys in sorted order (one hidden class,
 * so the copy is one allocation and JSON.stringify takes its fast path) filled by plain property
 * loads. ajv compiles its validators the same way. The keys are written as JSON string literals
 * (valid JavaScript); `__proto__` in a literal would set the prototype, so such key sets, and
 * large ones, keep the generic copy.
 */
function compileCopier(keys: readonly string[]): Copier | undefined {
  if (keys.length > MAX_COMPILED_KEYS || keys.includes('__proto__')) return undefined;
  const sorted = keys.slice().sort();
  const loads = sorted.map((key, i) => `const v${i} = record[${JSON.stringify(key)}];`);
  const fields = sorted.map(
    (key, i) => `${JSON.stringify(key)}: typeof v${i} === 'object' && v${i} !== null ? deep(v${i}) : v${i}`,
  );
  return new Function('record', 'deep', `${loads.join('\n')}\nreturn {\n${fields.join(',\n')}\n};`) as Copier;
}

/**
 * The value with the keys of every object inserted in sorted order, so that JSON.stringify
 * (native, one allocation for the text) writes them sorted.
 */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  return deepCopy(value);
}

function deepCopy(value: object): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  const record = value as Record<string, unknown>;
  const shape = shapeOf(record);
  if (shape.copy !== undefined) return shape.copy(record, deepCopy);
  const copy: Record<string, unknown> = {};
  for (const key of shape.keys.slice().sort()) {
    const v = record[key];
    const value = v !== null && typeof v === 'object' ? deepCopy(v) : v;
    // An assignment to __proto__ would set the prototype: define it as the own key JSON.parse made.
    if (key === '__proto__') Object.defineProperty(copy, key, { value, enumerable: true, writable: true });
    else copy[key] = value;
  }
  return copy;
}
