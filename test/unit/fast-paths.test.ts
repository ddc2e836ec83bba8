import { hash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES, PERSONAL_FIELDS, splitEventName } from '../../events/catalog.js';
import { ANNOTATION_KEYWORDS, envelopeSchema } from '../../events/schemas.js';
import type { EnrichmentStatus } from '../../events/types.js';
import { isUuid, type ValidationResult, validateEvent } from '../../events/validate.js';
import { Random } from '../../generator/random.js';
import { fileSink } from '../../generator/sinks.js';
import { World } from '../../generator/world.js';
import { mapLimit } from '../../lake/concurrency.js';
import { type Dataset, partitionKeysAt } from '../../lake/layout.js';
import { cacheConditionParses } from '../../local/dynalite-parse-cache.js';
import { canonicalJson, jsonString } from '../../transform/canonical.js';
import { decodeRecord } from '../../transform/decode.js';
import { Dynamo, type DynamoSender, DynamoUnavailableError } from '../../transform/dynamo.js';
import { okRecord, type StagedFields, stagedLineJson, TimeFormat } from '../../transform/output.js';
import { withoutPersonal } from '../../transform/scrub.js';
import { char, jsonValue, key, number, objectOf, SEED, text } from '../support/arbitraries.js';

// Each fast path of the transform, the generator and the local runtime against its plain equivalent,
// on many generated inputs (fast-check, fixed seed): the fast path must give the same bytes,
// the same results in the same order, and surface errors the same way. docs/fast-paths.md lists
// them; each was broken once on purpose to see its property fail.

const RUNS = { seed: SEED, numRuns: 300 };

// ---------------------------------------------------------------------------------------------
// Plain equivalents: written for clarity, with no cache, no compiled code, no shared buffer.

/** An array index ("0" to "4294967294"): JavaScript enumerates these keys first, ascending. */
function isArrayIndex(k: string): boolean {
  return /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;
}

/** Canonical JSON, the plain way: keys ordered as canonicalJson documents, at every depth. */
function plainCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(plainCanonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const indices = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
    const names = keys.filter((k) => !isArrayIndex(k)).sort();
    return `{${[...indices, ...names].map((k) => `${JSON.stringify(k)}:${plainCanonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The same value with the keys of every object inserted in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return objectOf(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)] as const),
  );
}

const PERSONAL = new Set(PERSONAL_FIELDS);

/** A deep copy without the personal keys, at any depth. */
function plainWithoutPersonal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainWithoutPersonal);
  if (value === null || typeof value !== 'object') return value;
  return objectOf(
    Object.entries(value)
      .filter(([k]) => !PERSONAL.has(k))
      .map(([k, v]) => [k, plainWithoutPersonal(v)] as const),
  );
}

function hasPersonal(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => PERSONAL.has(k) || hasPersonal(v));
}

// ---------------------------------------------------------------------------------------------

describe('canonical JSON (compiled copiers per key set) against a plain recursive canonicalizer', () => {
  it('writes the same text for any JSON value', () => {
    fc.assert(
      fc.property(jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(plainCanonical(value));
      }),
      RUNS,
    );
  });

  it('writes the same text for records of a few recurring shapes, whatever their key order', () => {
    // The copier of a key set is compiled on its second sighting: a batch of records that share
    // a few shapes takes the compiled path from the second record on.
    const shape = fc.uniqueArray(key, { minLength: 1, maxLength: 8 });
    const batch = fc.tuple(
      fc.array(shape, { minLength: 1, maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 12 }),
    );
    fc.assert(
      fc.property(batch, fc.array(jsonValue(), { minLength: 8, maxLength: 8 }), ([shapes, picks], values) => {
        for (const [i, pick] of picks.entries()) {
          const keys = shapes[pick % shapes.length]!;
          const record = objectOf(keys.map((k, j) => [k, values[(i + j) % values.length]] as const));
          const nested = { record, list: [record, reversedKeys(record)] };
          expect(canonicalJson(record)).toBe(plainCanonical(record));
          expect(canonicalJson(reversedKeys(record))).toBe(plainCanonical(record));
          expect(canonicalJson(nested)).toBe(plainCanonical(nested));
        }
      }),
      { ...RUNS, numRuns: 150 },
    );
  });

  it('writes the same text for objects too large to compile (more than 64 keys)', () => {
    const wide = fc.uniqueArray(fc.tuple(key, number), {
      minLength: 60,
      maxLength: 80,
      selector: ([k]) => k,
    });
    fc.assert(
      fc.property(wide, (entries) => {
        const record = objectOf(entries);
        for (let seen = 0; seen < 3; seen++) expect(canonicalJson(record)).toBe(plainCanonical(record));
      }),
      { ...RUNS, numRuns: 50 },
    );
  });

  it('writes a JSON string literal exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 64 }), (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s));
      }),
      { ...RUNS, numRuns: 2000 },
    );
  });
});

describe('the hand-built staging line against JSON.stringify of the same StagedEvent', () => {
  const nullable = fc.option(text, { nil: null });
  const iso = fc
    .integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 })
    .map((ms) => new Date(ms).toISOString());
  const fields: fc.Arbitrary<StagedFields> = fc.record({
    event_uuid: fc.oneof(fc.uuid(), text),
    event_name: fc.oneof(
      fc.constantFrom(...EVENT_NAMES),
      text,
      fc.tuple(text, text).map(([a, b]) => `${a}:${b}`),
    ),
    created_at: iso,
    received_at: iso,
    user_uuid: fc.option(fc.oneof(fc.uuid(), text), { nil: null }),
    language: nullable,
    subscription_status: nullable,
    subscription_type: nullable,
    country: nullable,
    enrichment_status: fc.option(
      fc.constantFrom<EnrichmentStatus>(
        'complete',
        'missing_user',
        'missing_subscription',
        'missing_user_and_subscription',
      ),
      { nil: null },
    ),
    extras: fc.option(
      jsonValue().map((v) => canonicalJson({ v })),
      { nil: null },
    ),
    replayed_from: nullable,
  });
  const specifics = jsonValue().map((v) => canonicalJson(v !== null && typeof v === 'object' ? v : { v }));

  it('writes the same bytes, fields in the StagedEvent order', () => {
    fc.assert(
      fc.property(fields, specifics, (f, specificsJson) => {
        const { type, subtype } = splitEventName(f.event_name);
        const plain = {
          event_uuid: f.event_uuid,
          event_name: f.event_name,
          event_type: type,
          event_subtype: subtype,
          created_at: f.created_at,
          received_at: f.received_at,
          user_uuid: f.user_uuid,
          language: f.language,
          event_specifics: JSON.parse(specificsJson),
          subscription_status: f.subscription_status,
          subscription_type: f.subscription_type,
          country: f.country,
          enrichment_status: f.enrichment_status,
          ...(f.extras === null ? {} : { extras: JSON.parse(f.extras) }),
          ...(f.replayed_from === null ? {} : { replayed_from: f.replayed_from }),
        };
        expect(stagedLineJson(f, specificsJson)).toBe(JSON.stringify(plain));
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });
});

describe('output records encoded in a shared buffer against Buffer.from(line + newline)', () => {
  // The scratch buffer holds 256 KiB: a line of more than about 87,000 UTF-16 units takes the
  // allocating path; lines around that limit, in any order, must encode the same.
  const LIMIT = Math.floor((256 * 1024 - 1) / 3);
  const long = fc
    .tuple(
      fc.oneof(fc.integer({ min: LIMIT - 8, max: LIMIT + 8 }), fc.integer({ min: LIMIT, max: 2 * LIMIT })),
      fc.constantFrom('a', 'é', '€', '😀', '\ud800'),
    )
    .map(([n, c]) => c.repeat(Math.ceil(n / c.length)).slice(0, n));
  const line = fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: char, maxLength: 200 }) },
    { weight: 1, arbitrary: long },
  );

  it('writes the same base64 for every line of a batch (lone surrogates as U+FFFD, as Buffer.from does)', () => {
    const metadata = { partitionKeys: partitionKeysAt('quarantine', 0) };
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
        const out = lines.map((json, i) => okRecord(`r${i}`, json, metadata));
        for (const [i, json] of lines.entries()) {
          expect(out[i]!.data).toBe(Buffer.from(`${json}\n`).toString('base64'));
        }
      }),
      { ...RUNS, numRuns: 200 },
    );
  });
});

describe('ISO times and partition keys cached per minute against Date', () => {
  const MAX = 8.64e15;
  const instant = fc.oneof(
    fc.integer({ min: -MAX, max: MAX }),
    fc.double({ min: -MAX, max: MAX, noNaN: true }),
    fc.constantFrom(MAX, -MAX, MAX + 1, -MAX - 1, 0, -0, -0.5, 59_999.9, -60_000.5, Number.NaN, Infinity),
  );
  // A batch: a few instants, each followed by neighbours within minutes (the cache's hits).
  const batch = fc
    .array(fc.tuple(instant, fc.array(fc.integer({ min: -180_000, max: 180_000 }), { maxLength: 5 })), {
      minLength: 1,
      maxLength: 5,
    })
    .map((groups) => groups.flatMap(([t, deltas]) => [t, ...deltas.map((d) => t + d)]));

  it('formats as Date#toISOString (milliseconds truncated), null outside what a Date holds', () => {
    fc.assert(
      fc.property(batch, (times) => {
        const format = new TimeFormat();
        for (const ms of times) {
          const plain =
            Number.isFinite(ms) && Math.abs(ms) <= MAX ? new Date(Math.trunc(ms)).toISOString() : null;
          expect(format.iso(ms)).toBe(plain);
        }
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('gives the partition keys partitionKeysAt gives, per dataset', () => {
    const lakeTime = fc.integer({ min: 0, max: 253_402_300_799_999 });
    const times = fc
      .array(fc.tuple(lakeTime, fc.array(fc.integer({ min: -120_000, max: 120_000 }), { maxLength: 4 })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((groups) => groups.flatMap(([t, deltas]) => [t, ...deltas.map((d) => Math.max(0, t + d))]));
    fc.assert(
      fc.property(
        times,
        fc.array(fc.constantFrom<Dataset>('staging', 'quarantine'), { minLength: 1 }),
        (ts, sets) => {
          const format = new TimeFormat();
          for (const [i, ms] of ts.entries()) {
            const dataset = sets[i % sets.length]!;
            expect(format.partitionKeys(dataset, ms)).toEqual(partitionKeysAt(dataset, ms));
          }
        },
      ),
      RUNS,
    );
  });
});

describe('scrubbing personal fields (no copy when there are none) against a plain deep filter', () => {
  const withPersonal = fc.oneof(key, fc.constantFrom(...PERSONAL_FIELDS));

  it('gives the same value, returns the input itself when it holds none, never mutates it', () => {
    fc.assert(
      fc.property(jsonValue(withPersonal), (value) => {
        const before = JSON.stringify(value);
        const scrubbed = withoutPersonal(value);
        expect(JSON.stringify(scrubbed)).toBe(JSON.stringify(plainWithoutPersonal(value)));
        expect(JSON.stringify(value)).toBe(before);
        if (!hasPersonal(value)) expect(scrubbed).toBe(value);
      }),
      RUNS,
    );
  });
});

describe('decoding a record (specifics cut out of the canonical text, shared buffer) against plain steps', () => {
  const uuid = '0d6f8a3e-5b1c-4f7e-9a2d-3c4b5e6f7a8b';
  const lesson = {
    content_release_id: 'r-2026.11',
    title: 'Ordering food',
    language: 'es',
    course_uuid: '3f0e5a52-8a4b-4c55-9a62-1f2b0c6d7e81',
    course_title: 'Travel basics',
    number_of_lessons_in_course: 12,
    completed_lessons_in_course: 3,
    percentage_completed_in_course: 25,
    user_uuid: uuid,
  };
  // Personal fields: the specifics are scrubbed, so they are written on their own.
  const user = {
    operation: 'update',
    uuid,
    name: 'Ada Lovelace',
    firstname: 'Ada',
    country: 'GB',
    active: true,
  };
  const extraKey = fc.oneof(text, key).map((k) => `x_${k}`);
  const event = fc.record({
    base: fc.constantFrom<[string, Record<string, unknown>]>(
      ['lesson:completed', lesson],
      ['user:updated', user],
    ),
    extra: fc.uniqueArray(fc.tuple(extraKey, jsonValue()), { maxLength: 4, selector: ([k]) => k }),
    envelopeExtra: fc.option(
      fc.tuple(
        key.map((k) => `env_${k}`),
        jsonValue(),
      ),
      { nil: null },
    ),
    createdAt: fc.oneof(
      fc.constant(1_763_726_400),
      fc.constant('2026-11-21T12:00:00.250Z'),
      fc.constant(1_763_726_400.5),
    ),
    reverse: fc.boolean(),
    pad: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(300_000) }),
  });

  it('gives the fingerprint and the specifics text that plain canonical JSON gives', () => {
    fc.assert(
      fc.property(event, ({ base: [name, specifics], extra, envelopeExtra, createdAt, reverse, pad }) => {
        const allSpecifics = objectOf([
          ...Object.entries(specifics),
          ...extra,
          // A large record (more than the 256 KiB shared buffer) takes the allocating path.
          ...(pad > 0 ? [['x_pad', 'p'.repeat(pad)] as const] : []),
        ]);
        const entries: [string, unknown][] = [
          ['event_uuid', uuid],
          ['created_at', createdAt],
          ['event_name', name],
          ['event_specifics', allSpecifics],
        ];
        if (envelopeExtra) entries.push(envelopeExtra);
        const value = reverse ? reversedKeys(objectOf(entries)) : objectOf(entries);
        const decoded = decodeRecord(Buffer.from(JSON.stringify(value)).toString('base64'));
        if (!decoded.ok) throw new Error(`not decoded: ${JSON.stringify(decoded.errors)}`);
        expect(decoded.fingerprint).toBe(hash('sha256', plainCanonical(value), 'base64url').slice(0, 22));
        expect(decoded.specificsJson).toBe(plainCanonical(plainWithoutPersonal(allSpecifics)));
      }),
      { ...RUNS, numRuns: 200 },
    );
  });
});

describe('the put pool (concurrency-limited conditional writes) against sequential awaits', () => {
  type Outcome = { kind: 'ok' | 'conditional' | 'error'; ticks: number };
  const outcome: fc.Arbitrary<Outcome> = fc.record({
    kind: fc.constantFrom<Outcome['kind']>('ok', 'ok', 'ok', 'conditional', 'conditional', 'error'),
    ticks: fc.integer({ min: 0, max: 6 }),
  });
  const TABLE = 'firelake-dedup';

  /** A DynamoDB stand-in in this process (mock): each put settles after its ticks, as told. */
  function stub(outcomes: Outcome[]) {
    const log = { inFlight: 0, maxInFlight: 0, sent: [] as number[], settledAt: -1 };
    const send = async (command: { input: PutItemCommandInput }) => {
      const n = Number(command.input.Item!.n!.N);
      log.sent.push(n);
      log.maxInFlight = Math.max(log.maxInFlight, ++log.inFlight);
      const { kind, ticks } = outcomes[n]!;
      for (let t = 0; t < ticks; t++) await null;
      log.inFlight--;
      if (kind === 'conditional')
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      if (kind === 'error') throw Object.assign(new Error(`throttled ${n}`), { name: 'ThrottlingException' });
      return {};
    };
    return { client: { send } as unknown as DynamoSender, send, log };
  }

  const input = (n: number): PutItemCommandInput => ({ TableName: TABLE, Item: { n: { N: String(n) } } });

  /** The plain equivalent: one put after the other; a failed condition is false, any other error ends it. */
  async function sequential(send: ReturnType<typeof stub>['send'], count: number) {
    const results: boolean[] = [];
    for (let n = 0; n < count; n++) {
      try {
        await send({ input: input(n) });
        results.push(true);
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        results.push(false);
      }
    }
    return results;
  }

  it('gives the same results in the same order, never more than the limit in flight, each put once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(outcome, { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (outcomes, limit) => {
          const pool = stub(outcomes);
          const plain = stub(outcomes);
          const got = await new Dynamo(pool.client, limit).putEachIfCondition(outcomes.length, input).then(
            (results) => ({ results }),
            (error: unknown) => ({ error }),
          );
          const want = await sequential(plain.send, outcomes.length).then(
            (results) => ({ results }),
            (error: unknown) => ({ error }),
          );
          expect(pool.log.maxInFlight).toBeLessThanOrEqual(limit);
          expect(new Set(pool.log.sent).size).toBe(pool.log.sent.length);
          // Settled only when nothing is in flight: no put runs on after the invocation ends.
          expect(pool.log.inFlight).toBe(0);
          if ('results' in want) {
            expect(got).toEqual(want);
            expect(pool.log.sent.slice().sort((a, b) => a - b)).toEqual(outcomes.map((_, n) => n));
          } else {
            // Both fail, on DynamoDB's error (with concurrency, whichever failed put settled first).
            expect('error' in got).toBe(true);
            const error = (got as { error: Error }).error;
            expect(error).toBeInstanceOf(DynamoUnavailableError);
            expect(error.message).toMatch(
              new RegExp(`^PutItem on ${TABLE} failed after the SDK's retries: throttled \\d+$`),
            );
            expect((error.cause as Error).name).toBe((want.error as Error).name);
          }
        },
      ),
      RUNS,
    );
  });

  it("passes the caller's own error on as it is, as a sequential loop would", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          outcome.filter((o) => o.kind !== 'error'),
          { minLength: 1, maxLength: 20 },
        ),
        fc.nat(),
        fc.integer({ min: 1, max: 8 }),
        async (outcomes, at, limit) => {
          const bad = at % outcomes.length;
          const own = new Error('input failed');
          const inputAt = (n: number) => {
            if (n === bad) throw own;
            return input(n);
          };
          const pool = stub(outcomes);
          await expect(
            new Dynamo(pool.client, limit).putEachIfCondition(outcomes.length, inputAt),
          ).rejects.toBe(own);
          expect(pool.log.inFlight).toBe(0);
        },
      ),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('mapLimit gives what a sequential map gives, and fails on one of the errors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(outcome, { maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        async (outcomes, limit) => {
          let inFlight = 0;
          let maxInFlight = 0;
          const fn = async (o: Outcome, i: number) => {
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            for (let t = 0; t < o.ticks; t++) await null;
            inFlight--;
            if (o.kind === 'error') throw new Error(`failed ${i}`);
            return `${o.kind} ${i}`;
          };
          const got = await mapLimit(outcomes, limit, fn).then(
            (results) => ({ results }),
            (error: Error) => ({ error: error.message }),
          );
          expect(inFlight).toBe(0);
          expect(maxInFlight).toBeLessThanOrEqual(limit);
          const failed = outcomes.flatMap((o, i) => (o.kind === 'error' ? [`failed ${i}`] : []));
          if (failed.length === 0) expect(got).toEqual({ results: outcomes.map((o, i) => `${o.kind} ${i}`) });
          else expect(failed).toContain((got as { error: string }).error);
        },
      ),
      RUNS,
    );
  });
});

// Strings that are uuids, or nearly: a prefix in any case, one character inserted, replaced or removed.
const UUID_RE = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const hex = fc.constantFrom(...'0123456789abcdefABCDEF');
const near = fc.constantFrom('g', 'G', '-', ' ', 'ａ', 'Ａ', '٠', '\u0000', 'ſ', 'K', '\ud800', '😀', '');
const candidate = fc
  .tuple(
    fc.array(hex, { minLength: 32, maxLength: 32 }),
    fc.constantFrom('', 'urn:uuid:', 'URN:UUID:', 'Urn:Uuid:', 'urn:uuid', 'urn-uuid:', 'urn:uuid:urn:uuid:'),
    fc.array(fc.record({ at: fc.integer({ min: 0, max: 48 }), c: near, replace: fc.boolean() }), {
      maxLength: 2,
    }),
  )
  .map(([digits, prefix, edits]) => {
    const d = digits.join('');
    let s = `${prefix}${d.slice(0, 8)}-${d.slice(8, 12)}-${d.slice(12, 16)}-${d.slice(16, 20)}-${d.slice(20)}`;
    // One character inserted or replaced (or removed: '') anywhere, dashes included.
    for (const { at, c, replace } of edits) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + c + s.slice(i + (replace ? 1 : 0));
    }
    return s;
  });

describe('isUuid (char codes) against the regex of ajv-formats', () => {
  it('accepts exactly the strings the regex accepts', () => {
    fc.assert(
      fc.property(fc.oneof(candidate, text), (s) => {
        expect(isUuid(s)).toBe(UUID_RE.test(s));
      }),
      { ...RUNS, numRuns: 5000 },
    );
  });
});

describe('the envelope check (plain code for the common case) against ajv with the schema alone', () => {
  // ajv-formats is CommonJS with `exports.default`, as in events/validate.ts.
  const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
    ajv: Ajv,
    formats: string[],
  ) => Ajv;
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    keywords: [...ANNOTATION_KEYWORDS],
  });
  addFormats(ajv, ['date-time', 'uuid']);
  const plainEnvelope = ajv.compile(envelopeSchema);

  const two = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));
  const dateTime = fc
    .tuple(
      fc.constantFrom('2026', '2024', '1900', '0000', '9999', '202'),
      two(0, 13),
      two(0, 32),
      fc.constantFrom('T', 't', ' ', '_'),
      two(0, 24),
      two(0, 60),
      two(0, 61),
      fc.constantFrom('', '.5', '.123456789', '.'),
      fc.constantFrom('Z', 'z', '', '+00:00', '-23:59', '+24:00', '+0100', '+01', '-00:30'),
    )
    .map(([y, mo, d, t, h, mi, sec, frac, zone]) => `${y}-${mo}-${d}${t}${h}:${mi}:${sec}${frac}${zone}`);
  const absent = Symbol('absent');
  const field = <T>(arb: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 6, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(absent) });
  const envelope = fc
    .record({
      event_uuid: field(fc.oneof(fc.uuid(), candidate, text, number, fc.constant(null))),
      created_at: field(
        fc.oneof(
          number,
          dateTime,
          fc.constantFrom('2026-11-21T12:00:00Z', '2016-12-31T23:59:60Z', '2026-11-21', ''),
          fc.constantFrom(Number.NaN, Infinity, -Infinity, null, true),
          text,
        ),
      ),
      event_name: field(
        fc.oneof(
          fc.constantFrom(...EVENT_NAMES),
          fc.constantFrom('lesson:started', 'a:b', 'Lesson:completed', 'lesson:', ':x', 'a:b:c', 'a_b:c_d'),
          text,
          number,
        ),
      ),
      event_specifics: field(
        fc.oneof(fc.constant({}), fc.constant([]), fc.constant(null), text, jsonValue()),
      ),
      extra: fc.option(fc.tuple(key, jsonValue()), { nil: null }),
    })
    .map(({ extra, ...fields }) =>
      objectOf([
        ...Object.entries(fields).filter(([, v]) => v !== absent),
        ...(extra && !(extra[0] in fields) ? [extra] : []),
      ]),
    );

  /**
   * The envelope was refused: a violation other than inside the specifics or the later time
   * check, and at least one (a refusal without a reason is a refusal nobody can act on).
   */
  const envelopeRefused = (r: ValidationResult) =>
    !r.ok &&
    r.reason === 'schema_violation' &&
    r.errors.some((e) => !e.path.startsWith('/event_specifics/') && e.message !== 'not a valid time');

  it('refuses exactly the envelopes the schema refuses', () => {
    fc.assert(
      fc.property(
        fc.oneof({ weight: 9, arbitrary: envelope }, { weight: 1, arbitrary: jsonValue() }),
        (value) => {
          expect(envelopeRefused(validateEvent(value))).toBe(!plainEnvelope(value));
        },
      ),
      { ...RUNS, numRuns: 3000 },
    );
  });
});

describe("the generator's events built from string templates against JSON.stringify", () => {
  it('writes each event as JSON.stringify writes the same object, and a valid event', () => {
    const run = fc.record({
      seed: fc.nat({ max: 0xffffffff }),
      rate: fc.constantFrom(1, 300, 100_000),
      // From 2001 on: a late event goes back up to 72 hours, never before 1970.
      start: fc.double({ min: 1e12, max: 4e12, noNaN: true }),
      steps: fc.array(fc.double({ min: 0, max: 5_000, noNaN: true }), { minLength: 1, maxLength: 150 }),
      late: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
    });
    fc.assert(
      fc.property(run, ({ seed, rate, start, steps, late }) => {
        const world = new World(new Random(seed), rate);
        let t = start;
        for (const [i, step] of steps.entries()) {
          t += step;
          const line = world.next(t, late[i % late.length]!);
          const value: unknown = JSON.parse(line);
          expect(line).toBe(JSON.stringify(value));
          expect(validateEvent(value).ok).toBe(true);
        }
      }),
      { ...RUNS, numRuns: 150 },
    );
  });
});

describe("the generator's file sink (lines encoded into a shared buffer) against joining the lines", () => {
  const dir = mkdtempSync(join(tmpdir(), 'firelake-fast-paths-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const CHUNK = 1 << 20;
  // Records around the 1 MiB buffer's limits (in UTF-16 units and in bytes) take the other paths.
  const big = fc
    .tuple(
      fc.integer({ min: Math.floor(CHUNK / 3) - 4, max: Math.floor(CHUNK / 3) + 4 }),
      fc.constantFrom('a', 'é', '€', '\ud800', '😀'),
    )
    .map(([n, c]) => c.repeat(n));
  const record = fc.oneof(
    { weight: 20, arbitrary: fc.string({ unit: char, maxLength: 300 }) },
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: big },
    {
      weight: 1,
      arbitrary: fc.integer({ min: CHUNK - 70_000, max: CHUNK + 2 }).map((n) => Buffer.alloc(n, 0x78)),
    },
  );
  let file = 0;

  it('writes the same bytes: each record, then a newline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 40 }), async (records) => {
        const path = join(dir, `out-${file++}.ndjson`);
        const sink = fileSink(path);
        for (const r of records) await sink.write(r);
        const counters = await sink.close();
        const plain = Buffer.concat(records.flatMap((r) => [Buffer.from(r), Buffer.from('\n')]));
        expect(readFileSync(path).equals(plain)).toBe(true);
        expect(counters.delivered).toBe(records.length);
        rmSync(path);
      }),
      { ...RUNS, numRuns: 60 },
    );
  });
});

describe("dynalite's condition parses, cached by expression text, against dynalite's own parse", () => {
  type Validations = { validateExpressions(data: Record<string, unknown>): string | undefined };
  const require = createRequire(import.meta.url);
  const PARSER = require.resolve('dynalite/db/conditionParser');
  const VALIDATIONS = require.resolve('dynalite/validations');
  // dynalite's request checks as the local runtime runs them: the cache installed on its parser.
  const cached = require(VALIDATIONS) as Validations;
  cacheConditionParses();
  const cachedParse = (require(PARSER) as { parse: unknown }).parse;
  // The same modules loaded afresh: a parser nothing patched, dynalite's own path.
  const saved = [require.cache[PARSER], require.cache[VALIDATIONS]] as const;
  delete require.cache[PARSER];
  delete require.cache[VALIDATIONS];
  const plain = require(VALIDATIONS) as Validations;
  const plainParse = (require(PARSER) as { parse: unknown }).parse;
  require.cache[PARSER] = saved[0];
  require.cache[VALIDATIONS] = saved[1];

  const NAMES = ['#a', '#b', '#uuid', '#exp'];
  const VALUES = [':v', ':w', ':now'];
  const path = fc.oneof(
    fc.constantFrom(...NAMES),
    fc.constantFrom('#a.#b', '#a[0]', '#b[2].#exp', 'plain_attr', 'size', 'name', '#zz'),
  );
  const operand = fc.oneof(path, fc.constantFrom(...VALUES));
  const condition = fc.letrec<{ c: string }>((tie) => ({
    c: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      fc.tuple(operand, fc.constantFrom('=', '<>', '<', '<=', '>', '>='), operand).map((t) => t.join(' ')),
      path.map((p) => `attribute_not_exists(${p})`),
      path.map((p) => `attribute_exists(${p})`),
      // Value-dependent expressions always take dynalite's own path.
      fc.tuple(path, fc.constantFrom(...VALUES)).map(([p, v]) => `begins_with(${p}, ${v})`),
      fc.tuple(path, fc.constantFrom(...VALUES)).map(([p, v]) => `size(${p}) > ${v}`),
      fc
        .tuple(path, fc.constantFrom(...VALUES), fc.constantFrom(...VALUES))
        .map(([p, a, b]) => `${p} BETWEEN ${a} AND ${b}`),
      fc.tuple(path, fc.constantFrom(...VALUES)).map(([p, v]) => `${p} IN (${v}, :w)`),
      tie('c').map((c) => `NOT ${c}`),
      fc
        .tuple(tie('c'), fc.constantFrom('AND', 'OR', 'and'), tie('c'))
        .map(([a, op, b]) => `(${a}) ${op} ${b}`),
    ),
  })).c;
  const broken = fc
    .tuple(condition, fc.nat(), fc.constantFrom('', ')', '(', ' AND', '::', '#'))
    .map(([c, at, insert]) => c.slice(0, at % (c.length + 1)) + insert + c.slice(at % (c.length + 1)));
  const attributeValue = fc.oneof(
    text.map((S) => ({ S })),
    fc.constantFrom('1', '-0', '1e3', '00012', 'abc', '').map((N) => ({ N })),
    fc.constantFrom({ BOOL: true }, { NULL: true }, { L: [] }, { SS: ['a', 'a'] }, { B: 'AAE=' }),
  );
  const subset = <T>(items: readonly T[]) => fc.subarray([...items]);
  // One expression, then requests with it (the cache's hits), each with its own values.
  const requests = fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: condition }, { weight: 1, arbitrary: broken }),
      subset(NAMES),
      subset(VALUES),
      fc.array(fc.array(attributeValue, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
    )
    .map(([expression, names, valueKeys, valueSets]) =>
      valueSets.map((values) => ({
        ConditionExpression: expression,
        ...(names.length > 0
          ? { ExpressionAttributeNames: Object.fromEntries(names.map((n) => [n, n.slice(1)])) }
          : {}),
        ...(valueKeys.length > 0
          ? { ExpressionAttributeValues: Object.fromEntries(valueKeys.map((k, i) => [k, values[i]])) }
          : {}),
      })),
    );

  it('checks two different parsers', () => {
    expect(cachedParse).not.toBe(plainParse);
  });

  it('gives the same tree, the same unused names and values, the same error message', () => {
    fc.assert(
      fc.property(requests, (batch) => {
        for (const request of batch) {
          const a: Record<string, unknown> = structuredClone(request);
          const b: Record<string, unknown> = structuredClone(request);
          expect(cached.validateExpressions(a)).toBe(plain.validateExpressions(b));
          expect(a._condition).toEqual(b._condition);
        }
      }),
      { ...RUNS, numRuns: 250 },
    );
  });
});
