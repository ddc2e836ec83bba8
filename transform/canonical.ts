// Canonical JSON: object keys sorted at every depth, no whitespace, so that the same event
// serialised with its keys in another order has the same text, hence the same fingerprint.
// Written out by hand rather than JSON.stringify of a sorted copy: this runs for every record
// and building copies costs more than the string (bench/transform.bench.ts).

// Characters JSON.stringify would escape (any surrogate: lone ones it writes as \u escapes).
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as a JSON string literal; the common case (nothing to escape) without a C++ call. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** JSON text of a parsed JSON value with object keys sorted (same text as JSON.stringify otherwise). */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i] ?? null);
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = record[key];
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
        out += `${first ? '' : ','}${jsonString(key)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return 'null';
  }
}
