import fc from 'fast-check';

// Generated inputs for the property tests of the fast paths (test/unit/fast-paths.test.ts): the
// nasty cases a hand-written example list forgets. Each test passes SEED, so a CI failure
// replays on any machine (fast-check prints the seed and the path of the failing case).

/** Fixed, so CI is reproducible; change it locally to explore other inputs. */
export const SEED = 0x1616;

export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** What JSON escapes or what trips a hand-written escaper: quotes, controls, line separators. */
export const escapeChar = fc.constantFrom(
  '"',
  '\\',
  '/',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
);

/** One character: mostly ASCII, then any code point (astral included), escapes, lone surrogates. */
export const char = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: escapeChar },
  { weight: 1, arbitrary: loneSurrogate },
);

export const text = fc.string({ unit: char, maxLength: 16 });

/**
 * Object keys: a few common ones (so that key sets recur, as producers' shapes do), integer-like
 * ones (JavaScript enumerates array indices first), keys an object literal treats specially, and
 * any text.
 */
export const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'score', 'user_uuid', 'Z', 'é', '😀', '') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('0', '1', '7', '10', '01', '-1', '1.5', '4294967294', '4294967295', '1e3'),
  },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty') },
  { weight: 3, arbitrary: text },
);

/** Numbers JSON can hold, with the ones whose text is unusual: -0, 1e21, 5e-324, 2^53 + 2. */
export const number = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.1,
    1e21,
    -1e21,
    1e-7,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.EPSILON,
    123456789.12345679,
    0.000001,
    1.7976931348623157e308,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** An object from entries: defined, not assigned, so "__proto__" stays a key, as JSON.parse makes it. */
export function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  return Object.fromEntries(entries);
}

/** Any value JSON.parse can return, nested a few levels, with empty arrays and objects. */
export function jsonValue(keys: fc.Arbitrary<string> = key): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.constant(null),
      fc.boolean(),
      number,
      text,
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc
      .uniqueArray(fc.tuple(keys, tie('value')), { maxLength: 6, selector: ([k]) => k })
      .map(objectOf),
  })).value;
}
