import { randomUUID } from 'node:crypto';
import { curatedDayPrefix, type Day } from '../lake/layout.js';
import { listAll, ObjectNotFoundError, type ObjectStore } from '../lake/store.js';
import {
  dayRange,
  decodeManifest,
  decodeManifestList,
  encodeManifest,
  encodeManifestList,
  partitionSummaries,
} from './avro.js';
import {
  type Catalog,
  CommitLostError,
  FileSystemCatalog,
  type TableVersion,
  VERSION_HINT_KEY,
} from './catalog.js';
import { CommitConflictError, IcebergError } from './errors.js';
import { keyToUri, METADATA_PREFIX, TABLE_PREFIX, tableLocation, uriToKey } from './location.js';
import {
  currentSchema,
  currentSnapshot,
  newSnapshotId,
  newTableMetadata,
  snapshotAsOf,
  withCuratedSchema,
  withSnapshot,
} from './metadata.js';
import { dayOfEpochDay, epochDay } from './schema.js';
import {
  type DataFile,
  type ManifestEntry,
  type ManifestFile,
  type NestedField,
  type Snapshot,
  STATUS,
  type TableMetadata,
} from './types.js';

// The curated events as one Iceberg table (format version 2). A commit replaces the files of the
// days it names and adds nothing else: a first compaction of a day is an `append` snapshot, a
// recompaction an `overwrite`, a fan-out run the union of its units in one snapshot. Each day
// keeps one Firelake record (the run, the staging objects it consumed, rows read and dropped),
// named by the snapshot: the summary's `firelake.days` is an index of every day's record, so the
// snapshot alone says what the table holds and how it was built.

/** Where each day's record is, as the snapshot's index names it. */
export interface DaysIndex {
  format: 1;
  days: Record<Day, { run_id: string; record: string }>;
}

/** A readable state of the table: a version of its metadata and one of its snapshots. */
export interface TableState {
  version: TableVersion;
  snapshot: Snapshot | undefined;
  index: DaysIndex;
}

/** A live data file of the table, by lake key. */
export interface CuratedFile {
  key: string;
  day: Day;
  language: string;
  rows: number;
  bytes: number;
}

/** One day's new content: every file the day has from now on, and its record. */
export interface DayChange {
  day: Day;
  /** The run whose record the change was based on; undefined when the day was not in the table. */
  basedOn: string | undefined;
  runId: string;
  record: object;
  files: readonly Omit<CuratedFile, 'day'>[];
}

export interface CommitOptions {
  log?: (line: string) => void;
  /** Files of these days older than this that no snapshot names are orphans (default: now). */
  orphansBefore?: Date;
  /** Expire snapshots older than this instead of the table's history.expire.max-snapshot-age-ms. */
  retentionMs?: number;
  now?: () => number;
}

export interface CommitResult {
  snapshotId: number;
  version: number;
  operation: string;
  attempts: number;
  /** Data files deleted after the commit: of expired snapshots, and orphans (metadata files not counted). */
  deletedFiles: number;
  expiredSnapshots: number;
  commitMs: number;
}

const EMPTY_INDEX: DaysIndex = { format: 1, days: {} };
const MAX_ATTEMPTS = 10;
/** Metadata files no version names are removed once this old: a commit at work may have just written them. */
export const ORPHAN_METADATA_AGE_MS = 24 * 3_600_000;

export class CuratedTable {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    readonly store: ObjectStore,
    readonly catalog: Catalog = new FileSystemCatalog(store),
  ) {}

  /** The current state, or one as of a snapshot id or an instant; undefined when there is no table. */
  async state(asOf?: { snapshotId?: number; time?: Date }): Promise<TableState | undefined> {
    const version = await this.catalog.load();
    if (!version) return undefined;
    const snapshot = asOf ? snapshotAsOf(version.metadata, asOf) : currentSnapshot(version.metadata);
    if (asOf && !snapshot) {
      const known = version.metadata.snapshots.map(
        (s) => `${s['snapshot-id']} (${new Date(s['timestamp-ms']).toISOString()})`,
      );
      throw new IcebergError(
        `no snapshot ${asOf.snapshotId ?? `as of ${asOf.time?.toISOString()}`} in the table: it has ${known.join(', ') || 'none'}`,
      );
    }
    return { version, snapshot, index: snapshot ? await this.index(snapshot) : EMPTY_INDEX };
  }

  /**
   * The schema a run writes its Parquet with (its field ids): the current schema's, adopted fields numbered
   * as the commit will number them (the same function of the same base).
   */
  async writeSchema(): Promise<NestedField[]> {
    const version = await this.catalog.load();
    const metadata = withCuratedSchema(
      version?.metadata ?? newTableMetadata(tableLocation(this.store), Date.now()),
    );
    return currentSchema(metadata).fields;
  }

  /** The day's record in a state (the document its last run wrote), or undefined. */
  async record<T>(state: TableState, day: Day): Promise<T | undefined> {
    const entry = state.index.days[day];
    if (!entry) return undefined;
    return JSON.parse(Buffer.from(await this.store.get(entry.record)).toString('utf8')) as T;
  }

  /** The live data files of a state, of some days or all, in key order. */
  async files(state: TableState, days?: readonly Day[]): Promise<CuratedFile[]> {
    if (!state.snapshot) return [];
    const wanted = days ? new Set(days.map(epochDay)) : undefined;
    const out: CuratedFile[] = [];
    for (const m of await this.manifestList(state.snapshot)) {
      const range = dayRange(m);
      if (wanted && range && ![...wanted].some((d) => d >= range.first && d <= range.last)) continue;
      for (const e of await this.entries(m)) {
        if (e.status === STATUS.deleted) continue;
        if (wanted && !wanted.has(e.file.partition.created_at_day)) continue;
        out.push({
          key: uriToKey(this.store, e.file.path),
          day: dayOfEpochDay(e.file.partition.created_at_day),
          language: e.file.partition.language,
          rows: e.file.recordCount,
          bytes: e.file.fileSizeBytes,
        });
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Commits the days' new files and records as one snapshot. Optimistic: when another commit got
   * in first, it is retried on the new version if that commit left these days as they were, and
   * refused with CommitConflictError (nothing published) if it changed one of them.
   */
  async commit(changes: readonly DayChange[], options: CommitOptions = {}): Promise<CommitResult> {
    const started = Date.now();
    const now = options.now ?? Date.now;
    const log = options.log ?? (() => {});
    const commitId = randomUUID();
    const location = tableLocation(this.store);
    const touched = new Set(changes.map((c) => epochDay(c.day)));
    const written: string[] = [];
    const put = async (key: string, body: Uint8Array | string, contentType: string) => {
      written.push(key);
      await this.store.put(key, body, { contentType });
    };

    // Written once for every attempt: the records and the manifests of the new files, whose
    // entries inherit the snapshot id and sequence number from the manifest list.
    const recordKeys = new Map<Day, string>();
    const added: {
      manifest: Omit<ManifestFile, 'sequenceNumber' | 'minSequenceNumber' | 'addedSnapshotId'>;
      files: DataFile[];
    }[] = [];
    let base = await this.catalog.load();
    let metadata = withCuratedSchema(base?.metadata ?? newTableMetadata(location, now()));
    for (const [i, c] of changes.entries()) {
      const recordKey = `${METADATA_PREFIX}firelake/day-${c.day}-${c.runId}.json`;
      recordKeys.set(c.day, recordKey);
      await put(recordKey, `${JSON.stringify(c.record, null, 2)}\n`, 'application/json');
      if (c.files.length === 0) continue;
      const files: DataFile[] = c.files.map((f) => ({
        path: keyToUri(this.store, f.key),
        partition: { created_at_day: epochDay(c.day), language: f.language },
        recordCount: f.rows,
        fileSizeBytes: f.bytes,
      }));
      const entries: ManifestEntry[] = files.map((file) => ({
        status: STATUS.added,
        snapshotId: 0,
        sequenceNumber: 0,
        fileSequenceNumber: 0,
        file,
      }));
      const key = `${METADATA_PREFIX}${commitId}-m${i}.avro`;
      const bytes = encodeManifest(entries, {
        schema: currentSchema(metadata),
        spec: metadata['partition-specs'][0]!,
        addedSnapshotId: 0,
      });
      await put(key, bytes, 'application/avro');
      added.push({
        files,
        manifest: {
          path: keyToUri(this.store, key),
          length: bytes.length,
          specId: 0,
          addedFiles: files.length,
          existingFiles: 0,
          deletedFiles: 0,
          addedRows: files.reduce((s, f) => s + f.recordCount, 0),
          existingRows: 0,
          deletedRows: 0,
          partitions: partitionSummaries(files),
        },
      });
    }

    for (let attempt = 1; ; attempt++) {
      const index =
        base && currentSnapshot(base.metadata)
          ? await this.index(currentSnapshot(base.metadata)!)
          : EMPTY_INDEX;
      const conflicts = changes.filter((c) => index.days[c.day]?.run_id !== c.basedOn).map((c) => c.day);
      if (conflicts.length > 0) {
        await this.deleteQuietly(written, log);
        throw new CommitConflictError(conflicts);
      }
      const parent = base ? currentSnapshot(base.metadata) : undefined;
      const sequenceNumber = metadata['last-sequence-number'] + 1;
      const snapshotId = newSnapshotId();
      const attemptFiles: string[] = [];
      const putAttempt = async (key: string, body: Uint8Array | string, contentType: string) => {
        attemptFiles.push(key);
        await this.store.put(key, body, { contentType });
      };

      // Every manifest of the parent that holds no file of these days is carried as it is; one
      // that does is rewritten with those files marked deleted.
      const manifests: ManifestFile[] = [];
      let removed: ManifestEntry[] = [];
      for (const m of parent ? await this.manifestList(parent) : []) {
        const range = dayRange(m);
        if (m.addedFiles + m.existingFiles === 0) continue; // only deleted entries: history, not content
        if (range && ![...touched].some((d) => d >= range.first && d <= range.last)) {
          manifests.push(m);
          continue;
        }
        const entries = (await this.entries(m)).filter((e) => e.status !== STATUS.deleted);
        const gone = entries.filter((e) => touched.has(e.file.partition.created_at_day));
        if (gone.length === 0) {
          manifests.push(m);
          continue;
        }
        const kept = entries.filter((e) => !touched.has(e.file.partition.created_at_day));
        removed = removed.concat(gone);
        const rewritten: ManifestEntry[] = [
          ...kept.map((e) => ({ ...e, status: STATUS.existing })),
          ...gone.map((e) => ({ ...e, status: STATUS.deleted, snapshotId })),
        ];
        const key = `${METADATA_PREFIX}${commitId}-r${attempt}-${manifests.length}.avro`;
        const bytes = encodeManifest(rewritten, {
          schema: currentSchema(metadata),
          spec: metadata['partition-specs'][0]!,
          addedSnapshotId: snapshotId,
        });
        await putAttempt(key, bytes, 'application/avro');
        manifests.push({
          path: keyToUri(this.store, key),
          length: bytes.length,
          specId: 0,
          sequenceNumber,
          minSequenceNumber: Math.min(sequenceNumber, ...rewritten.map((e) => e.sequenceNumber)),
          addedSnapshotId: snapshotId,
          addedFiles: 0,
          existingFiles: kept.length,
          deletedFiles: gone.length,
          addedRows: 0,
          existingRows: kept.reduce((s, e) => s + e.file.recordCount, 0),
          deletedRows: gone.reduce((s, e) => s + e.file.recordCount, 0),
          partitions: partitionSummaries(rewritten.map((e) => e.file)),
        });
      }
      for (const a of added)
        manifests.push({
          ...a.manifest,
          sequenceNumber,
          minSequenceNumber: sequenceNumber,
          addedSnapshotId: snapshotId,
        });

      const nextIndex: DaysIndex = { format: 1, days: { ...index.days } };
      for (const c of changes) nextIndex.days[c.day] = { run_id: c.runId, record: recordKeys.get(c.day)! };
      const indexKey = `${METADATA_PREFIX}firelake/days-${snapshotId}.json`;
      await putAttempt(indexKey, `${JSON.stringify(nextIndex)}\n`, 'application/json');
      const listKey = `${METADATA_PREFIX}snap-${snapshotId}-${attempt}-${commitId}.avro`;
      await putAttempt(
        listKey,
        encodeManifestList(manifests, {
          snapshotId,
          parentSnapshotId: parent?.['snapshot-id'],
          sequenceNumber,
        }),
        'application/avro',
      );

      const addedFiles = added.flatMap((a) => a.files);
      const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
      const prior = parent?.summary;
      const addedRecords = sum(addedFiles.map((f) => f.recordCount));
      const deletedRecords = sum(removed.map((e) => e.file.recordCount));
      const addedBytes = sum(addedFiles.map((f) => f.fileSizeBytes));
      const removedBytes = sum(removed.map((e) => e.file.fileSizeBytes));
      const total = (name: string) => Number(prior?.[name] ?? 0);
      const snapshot: Snapshot = {
        'snapshot-id': snapshotId,
        ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
        'sequence-number': sequenceNumber,
        'timestamp-ms': now(),
        'manifest-list': keyToUri(this.store, listKey),
        // Standard summary fields (spec Appendix F, "Optional Snapshot Summary Fields"), then Firelake's.
        summary: {
          operation: removed.length > 0 ? 'overwrite' : 'append',
          'added-data-files': String(addedFiles.length),
          'deleted-data-files': String(removed.length),
          'added-records': String(addedRecords),
          'deleted-records': String(deletedRecords),
          'added-files-size': String(addedBytes),
          'removed-files-size': String(removedBytes),
          'changed-partition-count': String(
            new Set(
              [...addedFiles, ...removed.map((e) => e.file)].map(
                (f) => `${f.partition.created_at_day}/${f.partition.language}`,
              ),
            ).size,
          ),
          'total-records': String(total('total-records') + addedRecords - deletedRecords),
          'total-data-files': String(total('total-data-files') + addedFiles.length - removed.length),
          'total-files-size': String(total('total-files-size') + addedBytes - removedBytes),
          'total-delete-files': '0',
          'total-position-deletes': '0',
          'total-equality-deletes': '0',
          'firelake.days': indexKey.slice(TABLE_PREFIX.length + 1),
          'firelake.changed-days': changes.map((c) => `${c.day}=${c.runId}`).join(','),
          'firelake.commit-id': commitId,
        },
        'schema-id': metadata['current-schema-id'],
      };
      const { metadata: next, expired } = withSnapshot(metadata, snapshot, {
        now: now(),
        previousMetadataFile: base ? keyToUri(this.store, base.key) : undefined,
        ...(options.retentionMs !== undefined ? { retentionMs: options.retentionMs } : {}),
      });
      let committed: TableVersion;
      try {
        committed = await this.catalog.commit(base, next);
      } catch (error) {
        if (!(error instanceof CommitLostError) || attempt >= MAX_ATTEMPTS) {
          if (error instanceof CommitLostError) await this.deleteQuietly([...written, ...attemptFiles], log);
          throw error;
        }
        log(
          `commit ${commitId}: another commit got in first (attempt ${attempt}): retrying on the new version`,
        );
        await this.deleteQuietly(attemptFiles, log);
        base = await this.catalog.load();
        metadata = withCuratedSchema(base?.metadata ?? newTableMetadata(location, now()));
        continue;
      }
      const cleanup = await this.cleanUp(
        committed.metadata,
        expired,
        base,
        touched,
        options.orphansBefore ?? new Date(started),
        log,
      );
      return {
        snapshotId,
        version: committed.version,
        operation: snapshot.summary.operation,
        attempts: attempt,
        deletedFiles: cleanup,
        expiredSnapshots: expired.length,
        commitMs: Date.now() - started,
      };
    }
  }

  /**
   * After a commit: deletes what only expired snapshots named (their manifest lists, manifests,
   * indexes, records and data files), metadata files past the log, and orphans: files of the
   * committed days that no snapshot names and that are older than the run (a run of one of these
   * days that started earlier can no longer commit), and metadata files no snapshot names that are
   * older than a day. A failure here leaves the commit as it is; the next one retries.
   */
  private async cleanUp(
    metadata: TableMetadata,
    expired: readonly Snapshot[],
    base: TableVersion | undefined,
    touched: ReadonlySet<number>,
    orphansBefore: Date,
    log: (line: string) => void,
  ): Promise<number> {
    try {
      const live = new Set<string>();
      for (const s of metadata.snapshots) for (const k of await this.reachable(s)) live.add(k);
      const doomed = new Set<string>();
      for (const s of expired) for (const k of await this.reachable(s)) if (!live.has(k)) doomed.add(k);
      const logged = new Set(metadata['metadata-log'].map((e) => uriToKey(this.store, e['metadata-file'])));
      for (const e of base?.metadata['metadata-log'] ?? []) {
        const key = uriToKey(this.store, e['metadata-file']);
        if (!logged.has(key)) doomed.add(key);
      }
      const keepMetadata = new Set([...logged, VERSION_HINT_KEY]);
      for (const o of await listAll(this.store, METADATA_PREFIX)) {
        if (live.has(o.key) || keepMetadata.has(o.key) || /\/v\d+\.metadata\.json$/.test(o.key)) continue;
        if (Date.now() - o.lastModified.getTime() > ORPHAN_METADATA_AGE_MS) doomed.add(o.key);
      }
      for (const d of touched) {
        for (const o of await listAll(this.store, curatedDayPrefix(dayOfEpochDay(d))))
          if (!live.has(o.key) && o.lastModified < orphansBefore) doomed.add(o.key);
      }
      await this.store.delete([...doomed]);
      const data = [...doomed].filter((k) => !k.startsWith(METADATA_PREFIX)).length;
      if (doomed.size > 0) {
        log(
          `removed ${data} data and ${doomed.size - data} metadata file(s) no retained snapshot names ` +
            `(${expired.length} snapshot(s) expired)`,
        );
      }
      return data;
    } catch (error) {
      log(
        `committed, but removing unreferenced files failed (the next commit retries): ${(error as Error).message}`,
      );
      return 0;
    }
  }

  /** Every lake key a snapshot needs to be read: manifest list, manifests, live data files, index, records. */
  private async reachable(snapshot: Snapshot): Promise<string[]> {
    const keys = [uriToKey(this.store, snapshot['manifest-list'])];
    for (const m of await this.manifestList(snapshot)) {
      keys.push(uriToKey(this.store, m.path));
      for (const e of await this.entries(m))
        if (e.status !== STATUS.deleted) keys.push(uriToKey(this.store, e.file.path));
    }
    const index = await this.index(snapshot);
    const indexKey = snapshot.summary['firelake.days'];
    if (indexKey) keys.push(`${TABLE_PREFIX}/${indexKey}`);
    for (const d of Object.values(index.days)) keys.push(d.record);
    return keys;
  }

  private async deleteQuietly(keys: readonly string[], log: (line: string) => void): Promise<void> {
    await this.store.delete(keys).catch((error: unknown) => {
      log(`could not remove ${keys.length} unpublished metadata file(s): ${(error as Error).message}`);
    });
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      p.catch(() => this.cache.delete(key));
      this.cache.set(key, p);
    }
    return p;
  }

  async manifestList(snapshot: Snapshot): Promise<ManifestFile[]> {
    const key = uriToKey(this.store, snapshot['manifest-list']);
    return this.cached(key, async () => decodeManifestList(await this.store.get(key)));
  }

  async entries(m: ManifestFile): Promise<ManifestEntry[]> {
    const key = uriToKey(this.store, m.path);
    // Keyed by the listing too: inherited values depend on the manifest list entry.
    return this.cached(`${key}@${m.addedSnapshotId}/${m.sequenceNumber}`, async () =>
      decodeManifest(await this.store.get(key), m),
    );
  }

  private async index(snapshot: Snapshot): Promise<DaysIndex> {
    const rel = snapshot.summary['firelake.days'];
    if (!rel) return EMPTY_INDEX;
    const key = `${TABLE_PREFIX}/${rel}`;
    return this.cached(key, async () => {
      try {
        return JSON.parse(Buffer.from(await this.store.get(key)).toString('utf8')) as DaysIndex;
      } catch (error) {
        if (error instanceof ObjectNotFoundError)
          throw new IcebergError(`snapshot ${snapshot['snapshot-id']} names ${key}, which is missing`, {
            cause: error,
          });
        throw error;
      }
    });
  }
}

/** The table's retained snapshots, oldest first, for `firelake query --snapshots`. */
export async function listSnapshots(
  store: ObjectStore,
): Promise<{ snapshot_id: number; time: string; operation: string; days: string[]; current: boolean }[]> {
  const version = await new CuratedTable(store).catalog.load();
  if (!version) return [];
  const current = version.metadata['current-snapshot-id'];
  return version.metadata.snapshots.map((s) => ({
    snapshot_id: s['snapshot-id'],
    time: new Date(s['timestamp-ms']).toISOString(),
    operation: s.summary.operation,
    days: (s.summary['firelake.changed-days'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((d) => d.split('=')[0]!),
    current: s['snapshot-id'] === current,
  }));
}
