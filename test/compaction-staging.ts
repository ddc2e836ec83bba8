import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CATALOG, type EventName, splitEventName } from '../events/catalog.js';
import type { StagedEvent } from '../events/types.js';
import { hourPrefix, parseDay } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';

// Builds staging days for the compaction tests and benchmark: StagedEvent lines as the transform
// writes them, gzip NDJSON objects under the layout's minute keys with Firehose-style names.

/** Small seeded PRNG (mulberry32): the same seed gives the same day. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LANGUAGES = ['de', 'en', 'es', 'fr', 'it', 'pl', 'pt', 'sv', 'tr', 'nl'];
const DEVICES = ['iOS', 'Android', 'Web'] as const;
const COUNTRIES = ['DE', 'US', 'ES', 'FR', 'IT', 'PL', 'BR', 'SE'];

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

// The app's user : subscription : lesson = 20 : 5 : 100, plus app engagement.
const WEIGHTS: [EventName, number][] = [
  ['user:created', 10],
  ['user:updated', 10],
  ['subscription:created', 3],
  ['subscription:updated', 2],
  ['lesson:completed', 100],
  ['game:started', 30],
  ['game:completed', 25],
  ['session:started', 20],
  ['session:ended', 20],
  ['app:installed', 5],
  ['notification:sent', 10],
  ['notification:opened', 5],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((s, [, w]) => s + w, 0);

/** One staged event of a random catalog name at an event time. */
export function stagedEvent(random: () => number, createdMs: number, receivedMs: number): StagedEvent {
  let r = random() * TOTAL_WEIGHT;
  let name: EventName = 'lesson:completed';
  for (const [n, w] of WEIGHTS) {
    r -= w;
    if (r < 0) {
      name = n;
      break;
    }
  }
  const def = CATALOG.find((d) => d.name === name)!;
  const user = uuidFrom(random);
  const language = pick(random, LANGUAGES);
  const device = pick(random, DEVICES);
  let specifics: Record<string, unknown>;
  switch (def.schema) {
    case 'user':
      specifics = {
        operation: name.endsWith('created') ? 'create' : 'update',
        uuid: user,
        country: pick(random, COUNTRIES),
        active: random() < 0.9,
      };
      break;
    case 'subscription':
      specifics = {
        operation: 'create',
        user_uuid: user,
        language,
        subscription_status: 'active',
        subscription_type: pick(random, ['free', 'basic', 'premium', 'family']),
        subscription_period: 30,
      };
      break;
    case 'lesson':
      specifics = {
        content_release_id: `r${Math.floor(random() * 40)}`,
        title: `Lesson ${Math.floor(random() * 500)}`,
        language,
        course_uuid: uuidFrom(random),
        course_title: `Course ${Math.floor(random() * 50)}`,
        number_of_lessons_in_course: 20,
        completed_lessons_in_course: Math.floor(random() * 20),
        percentage_completed_in_course: Math.floor(random() * 101),
        user_uuid: user,
      };
      break;
    case 'game':
      specifics = {
        user_uuid: user,
        session_id: uuidFrom(random),
        device,
        app_version: '5.2.1',
        language_id: language,
        difficulty: pick(random, ['Easy', 'Medium', 'Hard']),
        score: Math.floor(random() * 1000),
        attempts: Math.floor(random() * 5),
      };
      break;
    case 'session':
      specifics = {
        user_uuid: user,
        session_id: uuidFrom(random),
        device,
        app_version: '5.2.1',
        duration: random() * 900,
      };
      break;
    case 'app_installed':
      specifics = {
        install_id: uuidFrom(random),
        user_uuid: user,
        device,
        app_version: '5.2.1',
        country: 'DE',
        store: 'web',
      };
      break;
    default:
      specifics = { user_uuid: user, notification_id: uuidFrom(random), campaign: 'winback', device };
  }
  const lesson = def.role === 'lesson';
  const { type, subtype } = splitEventName(name);
  return {
    event_uuid: uuidFrom(random),
    event_name: name,
    event_type: type,
    event_subtype: subtype,
    created_at: new Date(createdMs).toISOString(),
    received_at: new Date(receivedMs).toISOString(),
    user_uuid: user,
    language: def.languageField ? language : null,
    event_specifics: specifics,
    subscription_status: lesson ? 'active' : null,
    subscription_type: lesson ? 'premium' : null,
    country: lesson ? pick(random, COUNTRIES) : null,
    enrichment_status: lesson ? 'complete' : null,
  };
}

/** A Firehose-style object key under the staging minute partition of an event time. */
export function stagingKey(createdMs: number, deliveredMs: number, stream = 'firelake'): string {
  const d = new Date(createdMs);
  const day = d.toISOString().slice(0, 10);
  const minute = String(d.getUTCMinutes()).padStart(2, '0');
  const t = new Date(deliveredMs).toISOString();
  const stamp = `${t.slice(0, 4)}-${t.slice(5, 7)}-${t.slice(8, 10)}-${t.slice(11, 13)}-${t.slice(14, 16)}-${t.slice(17, 19)}`;
  return `${hourPrefix('staging', day, d.getUTCHours())}minute=${minute}/${stream}-1-${stamp}-${randomUUID()}.gz`;
}

export function ndjsonGz(events: readonly StagedEvent[], level = 6): Buffer {
  return gzipSync(events.map((e) => `${JSON.stringify(e)}\n`).join(''), { level });
}

export interface StagingDay {
  keys: string[];
  /** Every line written, duplicates included. */
  lines: number;
  /** Distinct event_uuids written. */
  unique: number;
  duplicates: number;
  /** The events by uuid as first written, to compare with what compaction kept. */
  events: Map<string, StagedEvent>;
}

export interface StagingDayOptions {
  day: string;
  /** Hours of the day that get data (default 0-23). */
  hours?: readonly number[];
  /** Minutes of each hour that get an object (default every 10th). */
  minutes?: readonly number[];
  eventsPerObject?: number;
  /** Share of events delivered twice: again in a later object of the same minute, same line. */
  duplicateShare?: number;
  seed?: number;
  gzipLevel?: number;
}

/** Writes a staging day into a store; returns what a correct compaction must produce. */
export async function writeStagingDay(store: ObjectStore, options: StagingDayOptions): Promise<StagingDay> {
  const random = rng(options.seed ?? 1);
  const { startMs } = parseDay(options.day);
  const hours = options.hours ?? Array.from({ length: 24 }, (_, h) => h);
  const minutes = options.minutes ?? [0, 10, 20, 30, 40, 50];
  const perObject = options.eventsPerObject ?? 50;
  const out: StagingDay = { keys: [], lines: 0, unique: 0, duplicates: 0, events: new Map() };
  for (const hour of hours) {
    for (const minute of minutes) {
      const minuteMs = startMs + hour * 3_600_000 + minute * 60_000;
      const events = Array.from({ length: perObject }, (_, i) => {
        const created = minuteMs + Math.floor((i / perObject) * 60_000);
        return stagedEvent(random, created, created + 1_000 + Math.floor(random() * 5_000));
      });
      const retried = events.filter(() => random() < (options.duplicateShare ?? 0));
      const key = stagingKey(minuteMs, minuteMs + 70_000);
      await store.put(key, ndjsonGz(events, options.gzipLevel));
      out.keys.push(key);
      if (retried.length > 0) {
        // Firehose redelivers a batch: the same lines again, in a later object of the minute.
        const again = stagingKey(minuteMs, minuteMs + 130_000);
        await store.put(again, ndjsonGz(retried, options.gzipLevel));
        out.keys.push(again);
      }
      for (const e of events) out.events.set(e.event_uuid, e);
      out.lines += events.length + retried.length;
      out.duplicates += retried.length;
    }
  }
  out.unique = out.events.size;
  return out;
}
