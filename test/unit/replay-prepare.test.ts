import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FixError, type SelectedRecord } from '../../replay/engine.js';
import { prepareRecords } from '../../replay/prepare.js';
import { REPLAY_KEY } from '../../transform/replay-tag.js';
import { game } from '../transform-fixtures.js';

// From the fix's rows to tagged records: which origin each row takes, what cannot be sent, and
// what the current catalog would do with it.

const NOW = Date.UTC(2026, 10, 21, 12);
const options = { allowLate: false, lateWindowDays: 7, nowMs: NOW };

function selectedOf(events: { event_uuid: string }[], source = 'quarantine'): SelectedRecord[] {
  return events.map((e, i) => ({
    origin: `quarantine/a.gz#${i + 1}`,
    source,
    reason: 'schema_violation',
    event_uuid: e.event_uuid,
    arrival_ms: source === 'quarantine' ? null : NOW - 1000,
  }));
}

describe('replay records', () => {
  it('tags each record with the origin the fix returns, or the origin of its event_uuid', () => {
    const events = [game(randomUUID(), NOW - 1000), game(randomUUID(), NOW - 2000)];
    const selected = selectedOf(events);
    const { records } = prepareRecords(
      [
        { origin: null, payload: JSON.stringify(events[1]) },
        { origin: 'quarantine/a.gz#1', payload: JSON.stringify({ ...events[0], event_uuid: randomUUID() }) },
      ],
      selected,
      options,
    );
    expect(records.map((r) => r.origin)).toEqual(['quarantine/a.gz#2', 'quarantine/a.gz#1']);
    const sent = JSON.parse(records[0]!.data.toString()) as Record<string, unknown>;
    expect(sent[REPLAY_KEY]).toEqual({ from: 'quarantine/a.gz#2' });
    expect(records.map((r) => r.verdict)).toEqual(['accept', 'accept']);
    expect(records[0]!.eventDay).toBe('2026-11-21');
  });

  it('carries the failed arrival of an errors/ record and --allow-late, replacing an earlier tag', () => {
    const event = { ...game(randomUUID(), NOW - 9 * 86_400_000), [REPLAY_KEY]: { from: 'old.gz#4' } };
    const { records } = prepareRecords(
      [{ origin: null, payload: JSON.stringify(event) }],
      selectedOf([event], 'processing-failed'),
      { ...options, allowLate: true },
    );
    const sent = JSON.parse(records[0]!.data.toString()) as Record<string, unknown>;
    expect(sent[REPLAY_KEY]).toEqual({ from: 'quarantine/a.gz#1', allow_late: true, arrival: NOW - 1000 });
    expect(records[0]!.verdict).toBe('accept');
    const without = prepareRecords(
      [{ origin: null, payload: JSON.stringify(event) }],
      selectedOf([event]),
      options,
    );
    expect(without.records[0]!.verdict).toBe('too_late');
  });

  it('reports what cannot be sent: no payload, not JSON, not an object, too large', () => {
    const events = Array.from({ length: 4 }, () => game(randomUUID(), NOW - 1000));
    const selected = selectedOf(events);
    const big = { ...events[3], padding: 'x'.repeat(1_100_000) };
    const { records, notSendable } = prepareRecords(
      [
        { origin: 'quarantine/a.gz#1', payload: null },
        { origin: 'quarantine/a.gz#2', payload: '{"event_uuid": ' },
        { origin: 'quarantine/a.gz#3', payload: '[1, 2]' },
        { origin: 'quarantine/a.gz#4', payload: JSON.stringify(big) },
      ],
      selected,
      options,
    );
    expect(records).toEqual([]);
    expect(notSendable.map((n) => n.why)).toEqual([
      'no payload (fix it with --fix)',
      'not a JSON object (fix it with --fix)',
      'not a JSON object (fix it with --fix)',
      'over the 1,000 KiB record limit',
    ]);
  });

  it('judges each record as the transform will: schema, unknown name, future time', () => {
    const events = [
      game(randomUUID(), NOW - 1000),
      game(randomUUID(), NOW + 3_600_000),
      game(randomUUID(), NOW),
    ];
    const bad = { ...events[0]!, event_specifics: { ...events[0]!.event_specifics, score: 'high' } };
    const unknown = { ...events[2]!, event_name: 'game:paused' };
    const { records } = prepareRecords(
      [
        { origin: null, payload: JSON.stringify(bad) },
        { origin: null, payload: JSON.stringify(events[1]) },
        { origin: null, payload: JSON.stringify(unknown) },
      ],
      selectedOf(events),
      options,
    );
    expect(records.map((r) => r.verdict)).toEqual(['schema_violation', 'future_timestamp', 'unknown_event']);
  });

  it('refuses a fix that loses origins: an origin not selected, one twice, a row with neither origin nor uuid', () => {
    const events = [game(randomUUID(), NOW - 1000)];
    const selected = selectedOf(events);
    const payload = JSON.stringify(events[0]);
    expect(() => prepareRecords([{ origin: 'other.gz#1', payload }], selected, options)).toThrow(
      'row 1 of the fix returns origin other.gz#1, which was not selected',
    );
    expect(() =>
      prepareRecords(
        [
          { origin: null, payload },
          { origin: 'quarantine/a.gz#1', payload },
        ],
        selected,
        options,
      ),
    ).toThrow('the fix returns origin quarantine/a.gz#1 twice');
    expect(() => prepareRecords([{ origin: null, payload: '{"a": 1}' }], selected, options)).toThrow(
      FixError,
    );
  });
});
