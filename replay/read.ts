import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { FirelakeError } from '../lake/errors.js';
import { type Day, dayPrefix, errorsDayPrefix } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { REPLAY_KEY } from '../transform/replay-tag.js';

// Reading what a replay may send: quarantine lines, Firehose's errors/ records (their rawData),
// or an NDJSON file of payloads. Every line becomes one candidate with its origin (object key and
// line, 1-based), written as NDJSON for DuckDB (replay/sql/select.sql filters them). An object
// that cannot be read (not gzip, a line that is not JSON or lacks its fields) is named and
// skipped whole: the rest of the replay goes on, and the command exits 1 at the end.

export const REPLAY_SOURCES = ['quarantine', 'processing-failed', 'partitioning-failed'] as const;
export type ReplaySource = (typeof REPLAY_SOURCES)[number];

/** One line that a replay may send, as replay/sql/select.sql reads it. */
export interface Candidate {
  /** `<object key>#<line>`, or `file:<path>#<line>`: the replayed record's `replayed_from`. */
  origin: string;
  source: ReplaySource | 'file';
  /** The quarantine reason; `processing_failed`, `partitioning_failed` or `file` for the others. */
  reason: string;
  errors: { path: string; message: string }[];
  /** The record as text (personal fields removed in quarantine); null when there is none. */
  payload: string | null;
  event_uuid: string | null;
  event_name: string | null;
  created_at: string | null;
  received_at: string | null;
  /** errors/ records: arrival of the failed delivery, epoch ms (transform/dedup.ts takeover). */
  arrival_ms: number | null;
  /** Already the outcome of a replay (a quarantine line with replayed_from, or a tagged record). */
  replayed: boolean;
}

export interface Unreadable {
  key: string;
  error: string;
}

export interface ReadSummary {
  objects: number;
  lines: number;
  unreadable: Unreadable[];
}

export class ReplayInputError extends FirelakeError {
  static override readonly code: string = 'REPLAY_INPUT_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplayInputError';
  }
}

/** The days from `from` to `to`, inclusive. */
export function daysBetween(from: Day, to: Day): Day[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  const days: Day[] = [];
  for (let t = start; t <= end; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

function prefixOf(source: ReplaySource, day: Day): string {
  return source === 'quarantine' ? dayPrefix('quarantine', day) : errorsDayPrefix(day, source);
}

/**
 * Reads every object of the sources on the days into `out` (NDJSON of Candidate), object by
 * object; unreadable objects are reported, not written.
 */
export async function readLake(options: {
  store: ObjectStore;
  sources: readonly ReplaySource[];
  days: readonly Day[];
  out: string;
  log?: (line: string) => void;
}): Promise<ReadSummary> {
  const writer = new LineWriter(options.out);
  const summary: ReadSummary = { objects: 0, lines: 0, unreadable: [] };
  try {
    for (const source of options.sources) {
      for (const day of options.days) {
        const prefix = prefixOf(source, day);
        let objects = 0;
        for await (const object of options.store.list(prefix)) {
          // Objects still being written by the folder store end in .tmp / .lock.
          if (object.key.endsWith('.tmp') || object.key.endsWith('.lock')) continue;
          objects++;
          summary.objects++;
          let candidates: Candidate[];
          try {
            const text = textOf(await options.store.get(object.key));
            candidates = parseObject(source, object.key, text);
          } catch (error) {
            summary.unreadable.push({ key: object.key, error: (error as Error).message });
            options.log?.(`unreadable ${object.key}: ${(error as Error).message} (skipped)`);
            continue;
          }
          for (const c of candidates) await writer.write(c);
          summary.lines += candidates.length;
        }
        if (objects > 0) options.log?.(`${prefix}: ${objects} objects`);
      }
    }
  } finally {
    await writer.close();
  }
  return summary;
}

/** Reads an NDJSON file of payloads (one record per line; blank lines skipped). */
export async function readPayloadFile(path: string, out: string): Promise<ReadSummary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReplayInputError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const writer = new LineWriter(out);
  let lines = 0;
  try {
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      lines++;
      await writer.write({
        ...emptyCandidate(`file:${path}#${i + 1}`, 'file', 'file'),
        payload: line,
        ...identityOf(line),
      });
    }
  } finally {
    await writer.close();
  }
  return { objects: 1, lines, unreadable: [] };
}

function textOf(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes);
  // Firehose compresses objects with GZIP; recognise it by its magic bytes, not the name.
  const plain = buffer[0] === 0x1f && buffer[1] === 0x8b ? gunzipOrThrow(buffer) : buffer;
  return new TextDecoder('utf-8', { fatal: true }).decode(plain);
}

function gunzipOrThrow(buffer: Buffer): Buffer {
  try {
    return gunzipSync(buffer);
  } catch (error) {
    throw new Error(`not a readable gzip object (${(error as Error).message})`);
  }
}

function parseObject(source: ReplaySource, key: string, text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`line ${i + 1} is not JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`line ${i + 1} is not a JSON object`);
    }
    const origin = `${key}#${i + 1}`;
    out.push(
      source === 'quarantine'
        ? quarantineLine(origin, value, i + 1)
        : errorLine(source, origin, value, i + 1),
    );
  }
  return out;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function quarantineLine(origin: string, q: Record<string, unknown>, line: number): Candidate {
  if (typeof q.reason !== 'string') throw new Error(`line ${line} has no reason: not a quarantine line`);
  if (q.payload !== null && q.payload !== undefined && typeof q.payload !== 'string') {
    throw new Error(`line ${line}: payload must be text or null`);
  }
  return {
    origin,
    source: 'quarantine',
    reason: q.reason,
    errors: Array.isArray(q.errors)
      ? q.errors.map((e) => ({ path: String(e?.path ?? ''), message: String(e?.message ?? '') }))
      : [],
    payload: str(q.payload),
    event_uuid: str(q.event_uuid),
    event_name: str(q.event_name),
    created_at: str(q.created_at),
    received_at: str(q.received_at),
    arrival_ms: null,
    replayed: typeof q.replayed_from === 'string',
  };
}

function errorLine(
  source: ReplaySource,
  origin: string,
  e: Record<string, unknown>,
  line: number,
): Candidate {
  if (typeof e.rawData !== 'string')
    throw new Error(`line ${line} has no rawData: not a Firehose error record`);
  // Real objects carry numbers where the documentation says strings (docs/firehose.md).
  const arrival = Number(e.arrivalTimestamp);
  let payload: string | null = null;
  try {
    payload = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(e.rawData, 'base64'));
  } catch {
    payload = null; // not UTF-8: nothing a replay can tag; counted as not sendable
  }
  return {
    ...emptyCandidate(origin, source, source.replace('-', '_')),
    errors: [{ path: '/', message: `${String(e.errorCode ?? '')}: ${String(e.errorMessage ?? '')}` }],
    payload,
    received_at: Number.isFinite(arrival) ? new Date(arrival).toISOString() : null,
    arrival_ms: Number.isSafeInteger(arrival) ? arrival : null,
    ...(payload === null ? {} : identityOf(payload)),
  };
}

function emptyCandidate(origin: string, source: Candidate['source'], reason: string): Candidate {
  return {
    origin,
    source,
    reason,
    errors: [],
    payload: null,
    event_uuid: null,
    event_name: null,
    created_at: null,
    received_at: null,
    arrival_ms: null,
    replayed: false,
  };
}

/** The envelope fields of a payload, when it is a JSON object (for --event-name and the fix). */
function identityOf(
  payload: string,
): Pick<Candidate, 'event_uuid' | 'event_name' | 'created_at' | 'replayed'> {
  try {
    const v = JSON.parse(payload) as Record<string, unknown>;
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    const t = v.created_at;
    const ms = typeof t === 'number' ? t * 1000 : typeof t === 'string' ? Date.parse(t) : Number.NaN;
    return {
      event_uuid: str(v.event_uuid),
      event_name: str(v.event_name),
      created_at: Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : null,
      replayed: v[REPLAY_KEY] !== undefined,
    };
  } catch {
    return { event_uuid: null, event_name: null, created_at: null, replayed: false };
  }
}

/** NDJSON lines to a file, with backpressure. */
class LineWriter {
  private readonly stream;
  constructor(path: string) {
    this.stream = createWriteStream(path);
  }
  async write(value: unknown): Promise<void> {
    if (!this.stream.write(`${JSON.stringify(value)}\n`)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
