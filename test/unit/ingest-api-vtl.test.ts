import { render } from 'velocityjs';
import { describe, expect, it } from 'vitest';
import { API_PACK_CHARS, firehoseBatchTemplate } from '../../infra/ingest-api.js';
import { deaggregateJson } from '../../local/deaggregate.js';

// The batch endpoint's mapping template run by a real VTL engine (velocityjs): API Gateway cannot
// run here, so its $input and $util are EMULATED below with the documented behaviour, and Java's
// String.length() is JavaScript's length property (the one adaptation of the template text).

interface PutRecordBatchBody {
  DeliveryStreamName: string;
  Records: { Data: string }[];
}

function apiGateway(events: unknown[], query: Record<string, string> = {}): PutRecordBatchBody {
  const template = firehoseBatchTemplate('firelake-events').replaceAll('.length()', '.length');
  const input = {
    path: (p: string) => (p === '$' ? events : undefined),
    json: (p: string) => {
      const m = /^\$\[(\d+)\]$/.exec(p);
      if (!m) throw new Error(`unexpected JSONPath ${p}`);
      return JSON.stringify(events[Number(m[1])]);
    },
    params: (name: string) => query[name] ?? '',
  };
  const util = { base64Encode: (text: string) => Buffer.from(text).toString('base64') };
  return JSON.parse(render(template, { input, util })) as PutRecordBatchBody;
}

const event = (i: number, pad = 300) => ({
  event_uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  created_at: 1_764_000_000 + i,
  event_name: 'lesson:completed',
  event_specifics: { note: `"quoted" and \\ escaped ${'x'.repeat(pad)}` },
});

const splitAll = (body: PutRecordBatchBody) =>
  body.Records.flatMap((r) => {
    const split = deaggregateJson(Buffer.from(r.Data, 'base64'));
    if (!split.ok) throw new Error(split.message);
    return split.records.map((b) => JSON.parse(b.toString()) as unknown);
  });

describe('ingest API batch endpoint (VTL)', () => {
  it('packs a batch into newline-delimited records of at most 5,000 characters that deaggregate into the same events', () => {
    const events = Array.from({ length: 120 }, (_, i) => event(i));
    const body = apiGateway(events);
    expect(body.DeliveryStreamName).toBe('firelake-events');
    expect(body.Records.length).toBeLessThan(20);
    for (const r of body.Records)
      expect(Buffer.from(r.Data, 'base64').length).toBeLessThanOrEqual(API_PACK_CHARS);
    expect(splitAll(body)).toEqual(events);
  });

  it('never puts more than 500 events in a record', () => {
    const events = Array.from({ length: 500 }, (_, i) => ({ i }));
    const body = apiGateway(events);
    expect(
      body.Records.every((r) => Buffer.from(r.Data, 'base64').toString().split('\n').length <= 500),
    ).toBe(true);
    expect(splitAll(body)).toEqual(events);
  });

  it('sends an event larger than a pack in a record of its own', () => {
    const events = [event(1), event(2, 6000), event(3)];
    const body = apiGateway(events);
    expect(body.Records).toHaveLength(3);
    expect(splitAll(body)).toEqual(events);
  });

  it('sends one event per record with ?pack=off', () => {
    const events = Array.from({ length: 7 }, (_, i) => event(i, 10));
    const body = apiGateway(events, { pack: 'off' });
    expect(body.Records.map((r) => JSON.parse(Buffer.from(r.Data, 'base64').toString()))).toEqual(events);
  });
});
