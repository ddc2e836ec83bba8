import { gzipSync } from 'node:zlib';
import { eventDefinition, PERSONAL_FIELDS, splitEventName } from '../events/catalog.js';
import type { EnrichmentStatus, QuarantineRecord, StagedEvent } from '../events/types.js';
import { generateRecords } from '../generator/index.js';
import type { FolderStore } from '../lake/folder-store.js';
import { partitionKeysAt } from '../lake/layout.js';

// A stretch of generated events staged as the transform would stage them, straight from the
// generator (not through the transform): each event becomes its staged line (enriched from the
// users and subscriptions seen so far), one gzip object per minute, 1% of lines delivered twice,
// plus 1% duplicate tombstones in quarantine. The quality and report benches build their lakes so.

const DUPLICATE_SHARE = 0.01;
const TOMBSTONE_SHARE = 0.01;

export interface StagedStretch {
  /** Event time of the first event, epoch ms. */
  start: number;
  durationMs: number;
  events: number;
  seed?: number;
}

export async function buildStagedStretch(store: FolderStore, stretch: StagedStretch) {
  const records = generateRecords({
    seed: stretch.seed ?? 42,
    start: stretch.start,
    durationMs: stretch.durationMs - 1,
    maxRecords: stretch.events,
    ratePerSecond: stretch.events / (stretch.durationMs / 1000),
    duplicateRate: 0,
    conflictRate: 0,
    badRate: 0,
    lateRate: 0,
  });
  const users = new Map<string, string>();
  const subscriptions = new Map<string, { status: string; type: string }>();
  let minute = '';
  let batch: string[] = [];
  let tombstones: QuarantineRecord[] = [];
  let objects = 0;
  let gzBytes = 0;
  let lines = 0;
  let events = 0;
  let n = 0;
  const flush = async () => {
    if (!batch.length) return;
    const body = gzipSync(batch.join(''));
    const p = minute.split('/');
    await store.put(
      `staging/year=${p[0]}/month=${p[1]}/day=${p[2]}/hour=${p[3]}/minute=${p[4]}/firelake-events-1-${p.join('-')}-00-bench.gz`,
      body,
    );
    if (tombstones.length) {
      await store.put(
        `quarantine/year=${p[0]}/month=${p[1]}/day=${p[2]}/hour=${p[3]}/minute=${p[4]}/firelake-events-1-${p.join('-')}-00-bench.gz`,
        gzipSync(tombstones.map((q) => `${JSON.stringify(q)}\n`).join('')),
      );
    }
    objects++;
    gzBytes += body.length;
    batch = [];
    tombstones = [];
  };
  for (const record of records) {
    const raw = JSON.parse(String(record.data)) as {
      event_uuid: string;
      created_at: number | string;
      event_name: string;
      event_specifics: Record<string, unknown>;
    };
    const definition = eventDefinition(raw.event_name);
    if (!definition) continue;
    const createdMs = typeof raw.created_at === 'number' ? raw.created_at * 1000 : Date.parse(raw.created_at);
    const specifics = Object.fromEntries(
      Object.entries(raw.event_specifics).filter(([k]) => !PERSONAL_FIELDS.includes(k)),
    );
    const user = definition.userField ? (specifics[definition.userField] as string) : null;
    const language = definition.languageField ? (specifics[definition.languageField] as string) : null;
    let enrichment: Pick<
      StagedEvent,
      'subscription_status' | 'subscription_type' | 'country' | 'enrichment_status'
    > = {
      subscription_status: null,
      subscription_type: null,
      country: null,
      enrichment_status: null,
    };
    if (definition.role === 'user' && user) users.set(user, String(specifics.country));
    if (definition.role === 'subscription' && user) {
      subscriptions.set(`${user}/${language}`, {
        status: String(specifics.subscription_status),
        type: String(specifics.subscription_type),
      });
    }
    if (definition.role === 'lesson' && user) {
      const country = users.get(user) ?? null;
      const sub = subscriptions.get(`${user}/${language}`);
      const status: EnrichmentStatus =
        country && sub
          ? 'complete'
          : country
            ? 'missing_subscription'
            : sub
              ? 'missing_user'
              : 'missing_user_and_subscription';
      enrichment = {
        subscription_status: sub?.status ?? null,
        subscription_type: sub?.type ?? null,
        country,
        enrichment_status: status,
      };
    }
    const { type, subtype } = splitEventName(raw.event_name);
    const staged: StagedEvent = {
      event_uuid: raw.event_uuid,
      event_name: raw.event_name as StagedEvent['event_name'],
      event_type: type,
      event_subtype: subtype,
      created_at: new Date(createdMs).toISOString(),
      // Firehose arrival 1 to 30 s after the event, by position.
      received_at: new Date(createdMs + 1000 + (n++ % 30) * 1000).toISOString(),
      user_uuid: user ?? null,
      language: language ?? null,
      event_specifics: specifics,
      ...enrichment,
    };
    const p = partitionKeysAt('staging', createdMs);
    const key = `${p.year}/${p.month}/${p.day}/${p.hour}/${p.minute}`;
    if (key !== minute) {
      await flush();
      minute = key;
    }
    const line = `${JSON.stringify(staged)}\n`;
    batch.push(line);
    lines++;
    events++;
    if (n % Math.round(1 / DUPLICATE_SHARE) === 0) {
      batch.push(line);
      lines++;
    }
    if (n % Math.round(1 / TOMBSTONE_SHARE) === 7) {
      tombstones.push({
        reason: 'duplicate',
        received_at: staged.received_at,
        record_id: `bench-${n}`,
        event_uuid: staged.event_uuid,
        event_name: staged.event_name,
        created_at: staged.created_at,
        errors: [],
        payload: null,
        payload_base64: null,
        first_record_id: `bench-first-${n}`,
      });
    }
  }
  await flush();
  return { events, lines, objects, gzBytes };
}
