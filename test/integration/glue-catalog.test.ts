import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTable$, GetTableCommand, UpdateTable$ } from '@aws-sdk/client-glue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../compaction/config.js';
import { CATALOG_PROPERTY, FileSystemCatalog, metadataKey, VERSION_HINT_KEY } from '../../iceberg/catalog.js';
import { CommitConflictError, CommitUnknownError, IcebergError } from '../../iceberg/errors.js';
import { GlueCatalog } from '../../iceberg/glue-catalog.js';
import { keyToUri, METADATA_PREFIX, tableLocation } from '../../iceberg/location.js';
import { newTableMetadata } from '../../iceberg/metadata.js';
import { CuratedTable, type DayChange } from '../../iceberg/table.js';
import { FolderStore } from '../../lake/folder-store.js';
import { S3Store } from '../../lake/s3-store.js';
import type { ObjectStore } from '../../lake/store.js';
import {
  type RecordedGlue as Glue,
  RecordedGlue,
  type RecordedTable,
  shapeProblems,
} from '../support/recorded-glue.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';

// The Glue catalog's commit against a recorded Glue client (a mock: no Glue runs offline; every
// request it receives is checked against the SDK's Glue shapes) and a folder lake.

let root: string;
let lakes = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'firelake-glue-catalog-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REF = { database: 'firelake_lake', table: 'curated_events' };

/** The Glue table the stack creates: type ICEBERG, Glue's own empty metadata, no Firelake snapshot. */
async function stackTable(store: ObjectStore, withMetadata = true): Promise<RecordedTable> {
  const parameters: Record<string, string> = { table_type: 'ICEBERG', EXTERNAL: 'TRUE' };
  if (withMetadata) {
    // What Glue writes for an IcebergInput CREATE: a table with a schema and no snapshot.
    const empty = newTableMetadata(tableLocation(store), Date.now());
    empty.properties = {};
    const key = `${METADATA_PREFIX}00000-8f2c9a1e-glue.metadata.json`;
    await store.put(key, JSON.stringify(empty));
    parameters.metadata_location = keyToUri(store, key);
  }
  return {
    Name: REF.table,
    DatabaseName: REF.database,
    TableType: 'EXTERNAL_TABLE',
    Description: 'Curated events (Iceberg)',
    Parameters: parameters,
    StorageDescriptor: {
      Location: 's3://lake/curated/events/',
      Columns: [{ Name: 'event_uuid', Type: 'string' }],
    },
    VersionId: '1',
  };
}

async function setUp(withMetadata = true): Promise<{ store: FolderStore; glue: Glue; table: CuratedTable }> {
  const store = new FolderStore(join(root, `lake-${++lakes}`));
  const glue = new RecordedGlue(await stackTable(store, withMetadata));
  return { store, glue, table: new CuratedTable(store, new GlueCatalog(store, glue.client, REF)) };
}

/** Another writer of the same table: its own catalog, the same Glue. */
const another = (store: ObjectStore, glue: Glue) =>
  new CuratedTable(store, new GlueCatalog(store, glue.client, REF));

function change(day: string, runId: string, basedOn?: string): DayChange {
  const [y, m, d] = day.split('-');
  return {
    day,
    basedOn,
    runId,
    record: { run_id: runId, day },
    files: [
      {
        key: `curated/events/year=${y}/month=${m}/day=${d}/language=en/${runId}-0.parquet`,
        language: 'en',
        rows: 10,
        bytes: 1000,
      },
    ],
  };
}

const updates = (glue: Glue) => glue.requests.filter((r) => r.operation === 'UpdateTable');

describe('glue catalog commit', () => {
  it('commits with UpdateTable on the VersionId GetTable read, keeping the table and pointing at the new metadata', async () => {
    const { store, glue, table } = await setUp();
    const before = glue.table!.Parameters!.metadata_location!;
    const result = await table.commit([change('2026-11-20', 'run-a')]);

    expect(result).toMatchObject({ attempts: 1, version: 1, operation: 'append' });
    expect(glue.operations()).toEqual(['GetTable', 'GetTable', 'UpdateTable']);
    const [update] = updates(glue);
    expect(update!.wire).toMatchObject({
      DatabaseName: REF.database,
      VersionId: '1',
      SkipArchive: true,
      TableInput: {
        Name: REF.table,
        TableType: 'EXTERNAL_TABLE',
        Description: 'Curated events (Iceberg)',
        Parameters: {
          EXTERNAL: 'TRUE',
          table_type: 'ICEBERG',
          metadata_location: keyToUri(store, metadataKey(1)),
          previous_metadata_location: before,
        },
        StorageDescriptor: { Location: tableLocation(store) },
      },
    });
    const columns = (update!.wire.TableInput as { StorageDescriptor: { Columns: unknown[] } })
      .StorageDescriptor.Columns;
    expect(columns).toContainEqual({
      Name: 'created_at',
      Type: 'timestamp',
      Parameters: expect.objectContaining({
        'iceberg.field.current': 'true',
        'iceberg.field.id': expect.any(String),
      }),
    });
    // Glue moved on; the file-system convention is in step for the CLI's readers.
    expect(glue.table!.VersionId).toBe('2');
    expect(Buffer.from(await store.get(VERSION_HINT_KEY)).toString()).toBe('1');
    const viaGlue = await new GlueCatalog(store, glue.client, REF).load();
    const viaFiles = await new FileSystemCatalog(store).load();
    expect(viaGlue).toMatchObject({ version: 1, key: metadataKey(1), token: '2' });
    expect(viaFiles?.metadata['current-snapshot-id']).toBe(result.snapshotId);
    expect(viaGlue?.metadata['current-snapshot-id']).toBe(result.snapshotId);

    // The next commit swaps from the first one.
    await table.commit([change('2026-11-21', 'run-b')]);
    expect(updates(glue)[1]!.wire).toMatchObject({
      VersionId: '2',
      TableInput: {
        Parameters: {
          metadata_location: keyToUri(store, metadataKey(2)),
          previous_metadata_location: keyToUri(store, metadataKey(1)),
        },
      },
    });
  });

  it('makes the first commit on a Glue table with no metadata_location yet', async () => {
    const { store, glue, table } = await setUp(false);
    await table.commit([change('2026-11-20', 'run-a')]);
    const params = (updates(glue)[0]!.wire.TableInput as { Parameters: Record<string, string> }).Parameters;
    expect(params.metadata_location).toBe(keyToUri(store, metadataKey(1)));
    expect(params).not.toHaveProperty('previous_metadata_location');
    expect(updates(glue)[0]!.wire.VersionId).toBe('1');
  });

  it('puts a lake compacted before the Glue table into Glue on the first commit, keeping its history', async () => {
    const store = new FolderStore(join(root, `lake-${++lakes}`));
    const before = await new CuratedTable(store).commit([change('2026-11-19', 'run-0')]);
    const glue = new RecordedGlue(await stackTable(store));
    const table = new CuratedTable(store, new GlueCatalog(store, glue.client, REF));
    const state = await table.state();
    expect(state?.snapshot?.['snapshot-id']).toBe(before.snapshotId);
    await table.commit([change('2026-11-20', 'run-a')]);
    const now = await table.state();
    expect(now?.version.version).toBe(2);
    expect(Object.keys(now!.index.days).sort()).toEqual(['2026-11-19', '2026-11-20']);
    expect(now?.version.metadata['metadata-log'].map((e) => e['metadata-file'])).toContain(
      keyToUri(store, metadataKey(1)),
    );
  });

  it('retries on the new version when another writer changed the VersionId for another day', async () => {
    const { store, glue, table } = await setUp();
    await table.commit([change('2026-11-19', 'run-0')]);
    // Another compaction commits 2026-11-21 between this one's GetTable and its UpdateTable.
    glue.fail('UpdateTable', async () => {
      await another(store, glue).commit([change('2026-11-21', 'run-other')]);
    });
    const result = await table.commit([change('2026-11-20', 'run-a')]);
    expect(result.attempts).toBe(2);
    expect(updates(glue).map((u) => u.outcome)).toEqual([
      'ok',
      'ConcurrentModificationException',
      'ok',
      'ok',
    ]);
    const state = await table.state();
    expect(Object.keys(state!.index.days).sort()).toEqual(['2026-11-19', '2026-11-20', '2026-11-21']);
    // The lost candidate (v2) was removed; the winner's v3 and the retry's v4 stay.
    expect(await store.head(metadataKey(2))).toBeUndefined();
    expect(state?.version.version).toBe(4);
    expect((await new FileSystemCatalog(store).load())?.version).toBe(4);
  });

  it('publishes nothing and raises CommitConflictError when another writer changed the same day', async () => {
    const { store, glue, table } = await setUp();
    await table.commit([change('2026-11-20', 'run-0')]);
    glue.fail('UpdateTable', async () => {
      await another(store, glue).commit([change('2026-11-20', 'run-other', 'run-0')]);
    });
    await expect(table.commit([change('2026-11-20', 'run-a', 'run-0')])).rejects.toBeInstanceOf(
      CommitConflictError,
    );
    const state = await table.state();
    expect(state!.index.days['2026-11-20']?.run_id).toBe('run-other');
    expect(glue.table!.Parameters!.metadata_location).toBe(keyToUri(store, metadataKey(3)));
    // A file-system reader sees the winner, not the loser's candidate.
    expect((await new FileSystemCatalog(store).load())?.metadata['current-snapshot-id']).toBe(
      state!.snapshot!['snapshot-id'],
    );
  });

  it('takes a lost answer whose SDK retry saw ConcurrentModificationException as committed, once Glue names its file', async () => {
    const { store, glue, table } = await setUp();
    glue.fail('UpdateTable', 'apply-then-drop');
    const result = await table.commit([change('2026-11-20', 'run-a')]);
    expect(result.attempts).toBe(1);
    expect(updates(glue).map((u) => u.outcome)).toEqual([
      'applied, no answer',
      'ConcurrentModificationException',
    ]);
    expect(glue.table!.Parameters!.metadata_location).toBe(keyToUri(store, metadataKey(1)));
    expect(glue.operations().at(-1)).toBe('GetTable');
  });

  it('retries when UpdateTable never reached Glue and the table shows it unchanged', async () => {
    const { glue, table } = await setUp();
    glue.fail('UpdateTable', 'drop', 4); // every attempt of the SDK's retry policy
    const result = await table.commit([change('2026-11-20', 'run-a')]);
    expect(result.attempts).toBe(2);
    expect(glue.table!.VersionId).toBe('2');
  });

  it('raises CommitUnknownError when UpdateTable has no answer and GetTable cannot read the table back', async () => {
    const { store, glue, table } = await setUp();
    await table.commit([change('2026-11-19', 'run-0')]);
    const pointer = glue.table!.Parameters!.metadata_location;
    glue.fail('UpdateTable', 'drop', 4);
    // The commit's own GetTable answers; the read-back after the lost UpdateTable does not.
    glue.fail('GetTable', async () => {});
    glue.fail('GetTable', async () => {});
    glue.fail('GetTable', 'drop', 8);
    await expect(table.commit([change('2026-11-20', 'run-a')])).rejects.toBeInstanceOf(CommitUnknownError);
    expect(glue.table!.Parameters!.metadata_location).toBe(pointer);
    // Its candidate and the files it names stay: the run's outcome is for the next run to read.
    const candidate = await new FileSystemCatalog(store).load();
    expect(candidate?.version).toBe(2);
  });

  it('reports a refusal (no permission) as it is, and removes the candidate', async () => {
    const { store, glue, table } = await setUp();
    glue.fail('UpdateTable', { error: 'AccessDeniedException' });
    await expect(table.commit([change('2026-11-20', 'run-a')])).rejects.toThrow(/Glue refused UpdateTable/);
    expect(await store.head(metadataKey(1))).toBeUndefined();
    expect(glue.table!.VersionId).toBe('1');
  });

  it('numbers past the file of a writer killed between its metadata file and UpdateTable', async () => {
    const { store, glue, table } = await setUp();
    await table.commit([change('2026-11-19', 'run-0')]);
    await store.put(metadataKey(2), await store.get(metadataKey(1))); // the killed writer's candidate
    await table.commit([change('2026-11-20', 'run-a')]);
    expect(glue.table!.Parameters!.metadata_location).toBe(keyToUri(store, metadataKey(3)));
    expect(glue.table!.Parameters!.previous_metadata_location).toBe(keyToUri(store, metadataKey(1)));
  });

  it('does not take the file of a writer killed before the first Glue commit for the table', async () => {
    const { store, glue, table } = await setUp();
    const killed = newTableMetadata(tableLocation(store), Date.now());
    killed.properties[CATALOG_PROPERTY] = `glue:${REF.database}.${REF.table}`;
    await store.put(metadataKey(1), JSON.stringify(killed));
    expect(await table.state()).toBeUndefined();
    await table.commit([change('2026-11-20', 'run-a')]);
    expect(glue.table!.Parameters!.metadata_location).toBe(keyToUri(store, metadataKey(2)));
  });

  it('says the Glue table is missing when GetTable finds none', async () => {
    const store = new FolderStore(join(root, `lake-${++lakes}`));
    const glue = new RecordedGlue(undefined);
    await expect(new GlueCatalog(store, glue.client, REF).load()).rejects.toThrow(
      /does not exist: deploy the stack/,
    );
  });

  it('leaves a file-system writer unable to commit a table Glue commits', async () => {
    const { store, table } = await setUp();
    await table.commit([change('2026-11-20', 'run-a')]);
    await expect(new CuratedTable(store).commit([change('2026-11-21', 'run-b')])).rejects.toBeInstanceOf(
      IcebergError,
    );
  });
});

describe('glue catalog commit on S3 (s3rver)', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => s3?.close());

  it('names s3:// metadata in Glue and retries past another writer of another day', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'glue-lake');
    const glue = new RecordedGlue(await stackTable(store));
    const table = new CuratedTable(store, new GlueCatalog(store, glue.client, REF));
    await table.commit([change('2026-11-19', 'run-0')]);
    expect(glue.table!.Parameters!.metadata_location).toBe(
      `s3://${s3.bucket}/glue-lake/curated/events/metadata/v1.metadata.json`,
    );
    glue.fail('UpdateTable', async () => {
      await another(store, glue).commit([change('2026-11-21', 'run-other')]);
    });
    const result = await table.commit([change('2026-11-20', 'run-a')]);
    expect(result.attempts).toBe(2);
    const state = await table.state();
    expect(Object.keys(state!.index.days).sort()).toEqual(['2026-11-19', '2026-11-20', '2026-11-21']);
    expect((await new FileSystemCatalog(store).load())?.metadata['current-snapshot-id']).toBe(
      result.snapshotId,
    );
  });
});

describe('recorded glue', () => {
  it('refuses input the SDK shape does not define, or lacks a required member', async () => {
    expect(shapeProblems(GetTable$[4], { DatabaseName: 'd' })).toEqual([
      '$.Name: required by GetTableRequest',
    ]);
    expect(
      shapeProblems(UpdateTable$[4], { DatabaseName: 'd', TableInput: { Name: 't', Paramaters: {} } }),
    ).toEqual(['$.TableInput.Paramaters: not a member of TableInput']);
    expect(
      shapeProblems(UpdateTable$[4], { DatabaseName: 'd', TableInput: { Name: 't', Parameters: { a: 1 } } }),
    ).toEqual(['$.TableInput.Parameters.a: a string']);
    const glue = new RecordedGlue(undefined);
    await expect(
      glue.client.send(new GetTableCommand({ DatabaseName: 'd', Nme: 't' } as never)),
    ).rejects.toThrow(/Nme: not a member of GetTableRequest/);
    expect(glue.requests).toEqual([]);
  });
});

describe('compaction config', () => {
  it('commits through Glue when CURATED_GLUE_DATABASE and CURATED_GLUE_TABLE are set, and refuses one alone', () => {
    const base = { LAKE_BUCKET: 'lake' };
    expect(configFromEnv(base).curatedGlue).toBeUndefined();
    expect(
      configFromEnv({ ...base, CURATED_GLUE_DATABASE: 'firelake_lake', CURATED_GLUE_TABLE: 'curated_events' })
        .curatedGlue,
    ).toEqual({ database: 'firelake_lake', table: 'curated_events' });
    expect(() => configFromEnv({ ...base, CURATED_GLUE_TABLE: 'curated_events' })).toThrow(ConfigError);
  });
});
