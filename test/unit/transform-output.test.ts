import { describe, expect, it } from 'vitest';
import { partitionKeysAt } from '../../lake/layout.js';
import { canonicalJson, jsonString } from '../../transform/canonical.js';
import { decodeRecord, fingerprintOf, specificsWithin } from '../../transform/decode.js';
import { stagedLineJson, TimeFormat } from '../../transform/output.js';
import { REMOVED, scrubBytes, scrubText, withoutPersonal } from '../../transform/scrub.js';

describe('canonical JSON and fingerprints', () => {
  it('writes the same text whatever the key order, at every depth', () => {
    const a = { b: 1, a: { y: [1, { q: 2, p: 'x' }], x: null }, c: 'é' };
    const b = { c: 'é', a: { x: null, y: [1, { p: 'x', q: 2 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"x":null,"y":[1,{"p":"x","q":2}]},"b":1,"c":"é"}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('writes the same text once a key set is compiled, and keeps odd keys', () => {
    const shape = (n: number) => ({ z: n, '10': 'ten', '2': [{ y: 1, x: { q: n, p: null } }], a: 'é"' });
    const first = canonicalJson(shape(1));
    expect(first).toBe('{"2":[{"x":{"p":null,"q":1},"y":1}],"10":"ten","a":"é\\"","z":1}');
    // Later sightings of the same key set take the compiled copier: the same text.
    for (let n = 0; n < 5; n++) expect(canonicalJson(shape(1))).toBe(first);
    const proto = JSON.parse('{"b":1,"__proto__":{"x":1},"a":2}');
    for (let n = 0; n < 3; n++) expect(canonicalJson(proto)).toBe('{"__proto__":{"x":1},"a":2,"b":1}');
  });

  it('escapes strings exactly as JSON.stringify does', () => {
    for (const s of [
      'plain',
      'quote " and \\ backslash',
      'tab\tnewline\n',
      '\u0001',
      '😀 emoji',
      '\ud800 lone',
    ]) {
      expect(jsonString(s)).toBe(JSON.stringify(s));
      expect(JSON.parse(canonicalJson({ s }))).toEqual({ s });
    }
  });

  it('cuts the specifics out of the canonical event only where that is their own canonical text', () => {
    const event = {
      event_name: 'game:started',
      event_uuid: '0b1e9d3c-4f0a-4d43-9a8e-6f1d2c3b4a59',
      event_specifics: { score: 3, device: 'iOS', nested: { b: '"event_uuid":', a: [1, { d: 2, c: 1 }] } },
      created_at: 1763726400.5,
    };
    for (const e of [
      event,
      { ...event, created_at: '2026-11-21T12:00:00.250+01:00' },
      { ...event, event_uuid: 'urn:uuid:0B1E9D3C-4F0A-4D43-9A8E-6F1D2C3B4A59' },
      { ...event, event_specifics: {} },
    ]) {
      expect(specificsWithin(canonicalJson(e), e)).toBe(canonicalJson(e.event_specifics));
    }
    // Other keys could sort anywhere around the specifics: no cut.
    for (const extra of [{ a: { event_specifics: 1 } }, { event_type: 'x' }, { zz: 1 }]) {
      const e = { ...event, ...extra };
      expect(specificsWithin(canonicalJson(e), e)).toBeNull();
    }
  });

  it('fingerprints the canonical text, so key order does not matter', () => {
    const a = { event_uuid: 'u', created_at: 1, event_name: 'a:b', event_specifics: { x: 1, y: 2 } };
    const b = { event_specifics: { y: 2, x: 1 }, event_name: 'a:b', created_at: 1, event_uuid: 'u' };
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
    expect(fingerprintOf({ ...a, created_at: 2 })).not.toBe(fingerprintOf(a));
  });

  it('keeps fingerprints stable across releases (markers in DynamoDB outlive a deploy)', () => {
    // If this changes, a Firehose retry that spans a deploy would find its own marker with
    // another fingerprint and quarantine the event as uuid_conflict: change it deliberately.
    // The value is sha256 of Python's json.dumps(event, sort_keys=True, separators=(',', ':'),
    // ensure_ascii=False), base64url, 22 characters: any implementation can recompute it.
    const decoded = decodeRecord(
      Buffer.from(
        '{"event_uuid":"0b1e9d3c-4f0a-4d43-9a8e-6f1d2c3b4a59","created_at":1763726400,"event_name":"game:started",' +
          '"event_specifics":{"user_uuid":"5d0c8a43-3b7e-4f5e-8f55-0f6c1c1b2a10","session_id":"6e1d9b54-4c8f-4a6f-9a66-1a7d2d2c3b21",' +
          '"device":"iOS","language_id":"es","difficulty":"Easy"}}',
      ).toString('base64'),
    );
    expect(decoded.ok && decoded.fingerprint).toBe('tSPkWlNDnbfxcO1XC17sl9');
  });
});

describe('output times and lines', () => {
  it('formats times exactly as Date#toISOString, cached per minute', () => {
    const time = new TimeFormat();
    const samples = [
      0,
      1,
      59_999,
      60_000,
      1_763_726_400_123.9,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      253402300799999,
      8.64e15,
    ];
    for (let i = 0; i < 500; i++) samples.push(Math.random() * 4e12);
    for (const ms of samples) expect(time.iso(ms), String(ms)).toBe(new Date(ms).toISOString());
    expect(time.iso(8.64e15 + 1)).toBeNull();
    expect(time.iso(Number.NaN)).toBeNull();
    expect(time.iso(null)).toBeNull();
  });

  it('gives the partition keys of lake/layout.ts for each dataset', () => {
    const time = new TimeFormat();
    for (const ms of [0, 1_763_726_459_999, 1_763_726_460_000, Date.UTC(2027, 0, 1)]) {
      expect(time.partitionKeys('staging', ms)).toEqual(partitionKeysAt('staging', ms));
      expect(time.partitionKeys('quarantine', ms)).toEqual(partitionKeysAt('quarantine', ms));
    }
  });

  it('writes a StagedEvent line that parses back to its fields, whatever the strings hold', () => {
    const fields = {
      event_uuid: '0b1e9d3c-4f0a-4d43-9a8e-6f1d2c3b4a59',
      event_name: 'lesson:completed',
      created_at: '2026-11-21T12:00:00.000Z',
      received_at: '2026-11-21T12:00:00.300Z',
      user_uuid: null,
      language: 'x"\\\n',
      subscription_status: 'active',
      subscription_type: null,
      country: 'GB',
      enrichment_status: 'missing_subscription' as const,
      extras: null,
      replayed_from: null,
    };
    const line = stagedLineJson(fields, '{"title":"A \\"quoted\\" title"}');
    // A line without extras and a live line (not replayed) have neither key.
    const { extras: _, replayed_from: __, ...rest } = fields;
    expect(JSON.parse(line)).toEqual({
      ...rest,
      event_type: 'lesson',
      event_subtype: 'completed',
      event_specifics: { title: 'A "quoted" title' },
    });
    expect(Object.keys(JSON.parse(line))).toEqual([
      'event_uuid',
      'event_name',
      'event_type',
      'event_subtype',
      'created_at',
      'received_at',
      'user_uuid',
      'language',
      'event_specifics',
      'subscription_status',
      'subscription_type',
      'country',
      'enrichment_status',
    ]);
  });

  it('ends the line with the extras object when there is one, enriched or not', () => {
    const fields = {
      event_uuid: '0b1e9d3c-4f0a-4d43-9a8e-6f1d2c3b4a59',
      event_name: 'game:started',
      created_at: '2026-11-21T12:00:00.000Z',
      received_at: '2026-11-21T12:00:00.300Z',
      user_uuid: 'u',
      language: 'de',
      subscription_status: null,
      subscription_type: null,
      country: null,
      enrichment_status: null,
      extras: '{"_envelope":{"ab":"b"},"xp":5}',
      replayed_from: null,
    };
    const plain = JSON.parse(stagedLineJson(fields, '{}'));
    expect(plain.extras).toEqual({ _envelope: { ab: 'b' }, xp: 5 });
    expect(Object.keys(plain).at(-1)).toBe('extras');
    const enriched = JSON.parse(
      stagedLineJson({ ...fields, country: 'DE', enrichment_status: 'complete' }, '{}'),
    );
    expect(enriched).toMatchObject({ country: 'DE', extras: { xp: 5 } });
  });

  it('ends a replayed line with its origin, after the extras, and leaves a live line as the line without it', () => {
    const fields = {
      event_uuid: '0b1e9d3c-4f0a-4d43-9a8e-6f1d2c3b4a59',
      event_name: 'game:started',
      created_at: '2026-11-21T12:00:00.000Z',
      received_at: '2026-11-21T12:00:00.300Z',
      user_uuid: null,
      language: null,
      subscription_status: null,
      subscription_type: null,
      country: null,
      enrichment_status: null,
      extras: null,
      replayed_from: null,
    };
    const live = stagedLineJson(fields, '{}');
    const origin = 'quarantine/year=2026/month=11/day=21/hour=12/minute=00/x "q".gz#7';
    const replayed = stagedLineJson({ ...fields, replayed_from: origin }, '{}');
    expect(JSON.parse(replayed)).toEqual({ ...JSON.parse(live), replayed_from: origin });
    expect(Object.keys(JSON.parse(replayed)).at(-1)).toBe('replayed_from');
    expect(live).not.toContain('replayed_from');
    const withExtras = JSON.parse(
      stagedLineJson({ ...fields, extras: '{"xp":5}', replayed_from: origin }, '{}'),
    );
    expect(Object.keys(withExtras).slice(-2)).toEqual(['extras', 'replayed_from']);
  });
});

describe('personal fields', () => {
  it('removes them at any depth without touching the input, and returns clean values as they are', () => {
    const clean = { a: 1, b: { c: [1, 2] } };
    expect(withoutPersonal(clean)).toBe(clean);
    const input = { name: 'Ada', keep: 1, nested: [{ firstname: 'Ada', lastname: 'L', ok: true }] };
    expect(withoutPersonal(input)).toEqual({ keep: 1, nested: [{ ok: true }] });
    expect(input.name).toBe('Ada');
  });

  it('masks their values in text that is not JSON, and in bytes that are not UTF-8', () => {
    expect(scrubText('{"name": "Ada \\"the\\" Countess", "firstname":"Ada')).toBe(
      `{"name": "${REMOVED}", "firstname":"${REMOVED}"`,
    );
    expect(scrubText('{"lastname": 42, "x": 1')).toBe(`{"lastname": "${REMOVED}", "x": 1`);
    const bytes = Buffer.concat([
      Buffer.from('{"name":"Ad'),
      Buffer.from([0xff]),
      Buffer.from('a","x":"'),
      Buffer.from([0xfe]),
      Buffer.from('"}'),
    ]);
    const scrubbed = scrubBytes(bytes);
    expect(scrubbed.toString('latin1')).toBe(`{"name":"${REMOVED}","x":"\u00fe"}`);
  });
});
