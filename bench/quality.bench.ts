// The whole quality scorecard over one curated hour at 1M events/hour, beside a bare full-column
// scan of the same Parquet files in the same run: the ratio is the figure. The hour is built
// straight from the generator's NDJSON (not through the transform): each generated event becomes
// the staged line the transform would write (enriched from the users and subscriptions seen so
// far), one gzip object per minute, 1% of lines delivered twice, plus quarantine tombstones; the
// curated Parquet and its manifest are written with DuckDB from those objects.
//
//   npm run bench quality              (FIRELAKE_BENCH_EVENTS=200000 for a quicker run)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance, listValue } from '@duckdb/node-api';
import { eventDefinition, PERSONAL_FIELDS, splitEventName } from '../events/catalog.js';
import type { EnrichmentStatus, QuarantineRecord, StagedEvent } from '../events/types.js';
import { generateRecords } from '../generator/index.js';
import { FolderStore } from '../lake/folder-store.js';
import { dayPrefix, manifestKey, partitionKeysAt } from '../lake/layout.js';
import { listAll } from '../lake/store.js';
import { compactDay } from '../sql/fixture/lake.js';
import { LakeDay } from '../sql/runner.js';
import { runScorecard, SCORECARD_QUERIES } from '../sql/scorecard.js';
import { peakRssMiB, report } from './report.js';

const DAY = '2026-11-20';
const HOUR = 14;
const EVENTS = Number(process.env.FIRELAKE_BENCH_EVENTS ?? 1_000_000);
const DUPLICATE_SHARE = 0.01;
const TOMBSTONE_SHARE = 0.01;

const root = mkdtempSync(join(tmpdir(), 'firelake-bench-quality-'));
try {
  const store = new FolderStore(join(root, 'lake'));
  let t = performance.now();
  const built = await buildHour(store);
  const buildSeconds = (performance.now() - t) / 1000;
  console.log(
    `hour: ${built.events.toLocaleString('en-US')} events, ${built.lines.toLocaleString('en-US')} staged lines ` +
      `in ${built.objects} objects, ${(built.gzBytes / 2 ** 20).toFixed(1)} MiB gzip (${buildSeconds.toFixed(1)} s)`,
  );
  t = performance.now();
  // Curated Parquet and the manifest, written by DuckDB straight from the staging objects (the
  // SQL's fixture compaction: this bench measures the scorecard, not compaction/).
  const stagingKeys = (await listAll(store, dayPrefix('staging', DAY))).map((o) => o.key);
  await compactDay(store, DAY, { files: stagingKeys.map((k) => join(store.root, k)) }, stagingKeys);
  const manifestDoc = JSON.parse(Buffer.from(await store.get(manifestKey(DAY))).toString('utf8'));
  const curatedRows = Number(manifestDoc.rows);
  console.log(
    `compacted: ${curatedRows.toLocaleString('en-US')} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  // The scorecard, end to end: open the day (list, read staging and quarantine), every check.
  const asOf = new Date(`${DAY}T23:59:59Z`);
  t = performance.now();
  const card = await runScorecard({ store, day: DAY, asOf });
  const scorecardSeconds = (performance.now() - t) / 1000;
  console.log(
    `scorecard: ${card.status} (${card.counts.pass} pass, ${card.counts.warn} warn, ${card.counts.fail} fail)`,
  );
  for (const c of card.checks.filter((x) => x.status !== 'pass'))
    console.log(`  ${c.status} ${c.id}: ${c.detail}`);

  // Where the time goes: opening the day, then each query.
  t = performance.now();
  const lake = await LakeDay.open({ store, day: DAY, asOf });
  const openSeconds = (performance.now() - t) / 1000;
  const perQuery: Record<string, number> = {};
  for (const name of SCORECARD_QUERIES) {
    t = performance.now();
    await lake.query(`quality/${name}.sql`);
    perQuery[`query_${name}_s`] = (performance.now() - t) / 1000;
  }
  await lake.close();

  // The baseline: every column of the same Parquet files, read and hashed, in a fresh DuckDB.
  const manifest = JSON.parse(Buffer.from(await store.get(manifestKey(DAY))).toString('utf8')) as {
    files: { key: string }[];
  };
  const files = manifest.files.map((f) => join(store.root, f.key));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  t = performance.now();
  const scan = await connection.runAndReadAll(
    'SELECT count(*)::BIGINT AS n, max(hash(COLUMNS(*))) FROM read_parquet($1::VARCHAR[])',
    [listValue(files)],
  );
  const scanSeconds = (performance.now() - t) / 1000;
  const scanned = Number(scan.getRows()[0]![0]);
  connection.closeSync();
  instance.closeSync();

  report('quality', {
    events: built.events,
    staged_lines: built.lines,
    staging_gzip_mib: built.gzBytes / 2 ** 20,
    curated_rows: curatedRows,
    curated_rows_scanned: scanned,
    scorecard_seconds: scorecardSeconds,
    scorecard_status: card.status,
    open_day_seconds: openSeconds,
    ...perQuery,
    bare_parquet_scan_seconds: scanSeconds,
    scorecard_over_scan_ratio: scorecardSeconds / scanSeconds,
    scorecard_events_per_second: built.events / scorecardSeconds,
    peak_rss_mib: peakRssMiB(),
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}

/** One hour of generated events, staged as the transform would stage them. */
async function buildHour(store: FolderStore) {
  const start = Date.UTC(2026, 10, 20, HOUR);
  const records = generateRecords({
    seed: 42,
    start,
    durationMs: 3_600_000 - 1,
    maxRecords: EVENTS,
    ratePerSecond: EVENTS / 3600,
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
