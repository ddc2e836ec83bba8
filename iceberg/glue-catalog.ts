import {
  ConcurrentModificationException,
  EntityNotFoundException,
  GetTableCommand,
  type GlueClient,
  GlueServiceException,
  type Table,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import type { ObjectStore } from '../lake/store.js';
import { PreconditionFailedError } from '../lake/store.js';
import {
  CATALOG_PROPERTY,
  type Catalog,
  CommitLostError,
  FileSystemCatalog,
  metadataKey,
  readMetadataFile,
  serializeMetadata,
  type TableVersion,
  VERSION_HINT_KEY,
} from './catalog.js';
import { CommitUnknownError, IcebergError } from './errors.js';
import { GLUE_ICEBERG_TABLE_TYPE, GLUE_PARAMETER, glueColumns } from './glue-schema.js';
import { keyToUri, uriToKey } from './location.js';
import type { TableMetadata } from './types.js';

// The curated table in the AWS Glue Data Catalog (Iceberg spec "Metastore Tables"): the Glue
// table's `metadata_location` parameter is the pointer, and UpdateTable with the `VersionId` read
// by GetTable is the check-and-put (Glue API UpdateTable: "VersionId: the version ID at which to
// update the table contents"; a stale one fails with ConcurrentModificationException). This is
// what Iceberg's own GlueTableOperations does, and what Athena reads.
//
// Metadata files keep the file-system names (`metadata/v<N>.metadata.json`, created with
// If-None-Match: *) instead of the spec's `<V>-<uuid>.metadata.json`, and a commit rewrites
// `version-hint.text` after UpdateTable, so Firelake's own readers of an s3:// lake (the CLI, which
// reads by the file-system convention and needs no Glue permission) follow the same versions. In
// Glue mode the file is a candidate, not the commit:
//   1. GetTable: Glue's VersionId must still be the base's (else the commit lost already).
//   2. Write v<N+1>, the first number above Glue's version N that no v file has (a taken one
//      moves on), so a writer killed between steps 2 and 3 does not block the next one.
//   3. UpdateTable(VersionId = base's): the commit point. Lost: the v file is deleted. Unknown (no
//      answer, a 5xx, or an SDK retry): GetTable again; our metadata_location -> committed, another
//      -> lost, unreadable -> CommitUnknownError.
//   4. version-hint.text := N+1 (advisory, as in the file-system catalog).
// Residual window: a file-system reader (it walks past the hint to newer v files) sees a v file
// from step 2 until step 3 settles, and the file of a writer killed between 2 and 3 until the next
// commit supersedes it. Athena and other Glue readers never see an uncommitted version.

/** Where the curated table is in Glue. */
export interface GlueTableRef {
  database: string;
  table: string;
  /** Data Catalog id (the account); default: the caller's account. */
  catalogId?: string;
}

export interface GlueCatalogOptions {
  /**
   * UpdateTable's SkipArchive (default true): Glue otherwise archives a table version per commit,
   * counted against its table-versions quota; the metadata log keeps the history instead.
   */
  skipArchive?: boolean;
}

/** `v<N>.metadata.json` -> N; the spec's `<V>-<uuid>.metadata.json` -> V; else 0. */
export function versionOfMetadataFile(uriOrKey: string): number {
  const name = uriOrKey.slice(uriOrKey.lastIndexOf('/') + 1);
  const m = /^v(\d+)\.metadata\.json$/.exec(name) ?? /^(\d+)-.*\.metadata\.json$/.exec(name);
  return m ? Number(m[1]) : 0;
}

export class GlueCatalog implements Catalog {
  readonly name: string;
  private readonly files: FileSystemCatalog;
  private readonly skipArchive: boolean;

  constructor(
    private readonly store: ObjectStore,
    private readonly glue: Pick<GlueClient, 'send'>,
    private readonly ref: GlueTableRef,
    options: GlueCatalogOptions = {},
  ) {
    this.name = `Glue Data Catalog (${ref.database}.${ref.table})`;
    this.files = new FileSystemCatalog(store);
    this.skipArchive = options.skipArchive ?? true;
  }

  private get label(): string {
    return `${this.ref.database}.${this.ref.table}`;
  }

  async load(): Promise<TableVersion | undefined> {
    const table = await this.getTable();
    const location = table.Parameters?.[GLUE_PARAMETER.metadataLocation];
    if (location) {
      const key = this.keyOf(location);
      const metadata = await readMetadataFile(this.store, key);
      if (!metadata) throw new IcebergError(`Glue table ${this.label} names ${location}, which is missing`);
      if (this.isFirelakes(metadata, location))
        return { metadata, version: versionOfMetadataFile(key), key, token: table.VersionId };
    }
    // Glue holds no Firelake table yet: the stack's empty Iceberg table (its metadata has no
    // snapshot), or a table without metadata_location. The lake's file-system table, if there is
    // one (a lake compacted before the Glue table existed), is the base; the first commit puts it
    // in Glue. Glue's VersionId is still the condition.
    // Candidates of Glue commits that never happened (a writer killed before UpdateTable) are
    // not that table: the newest version without the Glue property is.
    const files = await this.files.load();
    for (let v = files?.version ?? 0; v >= 1; v--) {
      const key = metadataKey(v);
      const metadata = v === files?.version ? files.metadata : await readMetadataFile(this.store, key);
      if (metadata && metadata.properties[CATALOG_PROPERTY] === undefined)
        return { metadata, version: v, key, token: table.VersionId };
    }
    return undefined;
  }

  async commit(base: TableVersion | undefined, next: TableMetadata): Promise<TableVersion> {
    // 1. Glue now: the fields UpdateTable must carry over, and the VersionId to condition on.
    const table = await this.getTable();
    const current = table.Parameters?.[GLUE_PARAMETER.metadataLocation];
    if (base ? table.VersionId !== base.token : current && (await this.namesFirelakeTable(current)))
      throw new CommitLostError();
    const versionId = table.VersionId;

    // 2. The candidate metadata file, under the first free number.
    const metadata: TableMetadata = {
      ...next,
      properties: { ...next.properties, [CATALOG_PROPERTY]: `glue:${this.label}` },
    };
    const body = serializeMetadata(metadata);
    let version = (base?.version ?? 0) + 1;
    while (await this.store.head(metadataKey(version))) version++;
    for (;;) {
      try {
        await this.store.put(metadataKey(version), body, {
          contentType: 'application/json',
          ifNoneMatch: true,
        });
        break;
      } catch (error) {
        if (!(error instanceof PreconditionFailedError)) throw error; // nothing is published
        version++;
      }
    }
    const key = metadataKey(version);
    const location = keyToUri(this.store, key);

    // 3. The swap.
    const input: TableInput = {
      Name: table.Name ?? this.ref.table,
      ...(table.Description !== undefined ? { Description: table.Description } : {}),
      ...(table.Owner !== undefined ? { Owner: table.Owner } : {}),
      ...(table.Retention !== undefined ? { Retention: table.Retention } : {}),
      TableType: 'EXTERNAL_TABLE',
      Parameters: {
        ...table.Parameters,
        [GLUE_PARAMETER.tableType]: GLUE_ICEBERG_TABLE_TYPE,
        [GLUE_PARAMETER.metadataLocation]: location,
        ...(current ? { [GLUE_PARAMETER.previousMetadataLocation]: current } : {}),
      },
      StorageDescriptor: {
        ...table.StorageDescriptor,
        Location: metadata.location,
        Columns: glueColumns(metadata),
      },
      ...(table.PartitionKeys?.length ? { PartitionKeys: table.PartitionKeys } : {}),
    };
    try {
      await this.glue.send(
        new UpdateTableCommand({
          ...(this.ref.catalogId ? { CatalogId: this.ref.catalogId } : {}),
          DatabaseName: this.ref.database,
          TableInput: input,
          SkipArchive: this.skipArchive,
          ...(versionId !== undefined ? { VersionId: versionId } : {}),
        }),
      );
    } catch (error) {
      await this.settle(error, location, key);
    }

    // 4. Advisory, as in the file-system catalog.
    await this.store.put(VERSION_HINT_KEY, String(version)).catch(() => {});
    return { metadata, version, key };
  }

  /**
   * After a failed UpdateTable: returns when the update is in Glue after all (an SDK retry of an
   * update that had landed sees ConcurrentModificationException), throws CommitLostError when it
   * is not and another writer moved the table or nothing was applied, CommitUnknownError when
   * Glue cannot be read back, and the refusal itself when Glue refused the request.
   */
  private async settle(error: unknown, location: string, key: string): Promise<void> {
    // A refusal on the first attempt (bad input, no permission) is an answer: nothing landed.
    const refused =
      error instanceof GlueServiceException &&
      !(error instanceof ConcurrentModificationException) &&
      error.$fault === 'client' &&
      (error.$metadata.attempts ?? 1) <= 1;
    if (refused) {
      await this.deleteCandidate(key);
      throw new IcebergError(`Glue refused UpdateTable of ${this.label}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    let now: Table;
    let landed: boolean;
    try {
      now = await this.getTable();
      landed = await this.names(now, location);
    } catch (readError) {
      throw new CommitUnknownError(
        `UpdateTable of ${this.label} failed (${(error as Error).message}) and the table cannot be read back: ${(readError as Error).message}`,
        { cause: error },
      );
    }
    if (landed) return;
    // Not ours: another writer committed (the VersionId moved on, so no attempt of ours still in
    // flight can land), or Glue shows nothing applied and a reload and retry is safe. The
    // candidate goes either way: the table removes this attempt's manifest list, so the file
    // could only mislead a file-system reader.
    await this.deleteCandidate(key);
    throw new CommitLostError({ cause: error });
  }

  /**
   * Whether the table as Glue has it is our commit, or a later one made on top of it (our file in
   * its metadata log: an SDK retry may answer after another writer committed on ours).
   */
  private async names(table: Table, location: string): Promise<boolean> {
    const current = table.Parameters?.[GLUE_PARAMETER.metadataLocation];
    if (!current) return false;
    if (current === location) return true;
    const metadata = await readMetadataFile(this.store, this.keyOf(current));
    return (metadata?.['metadata-log'] ?? []).some((e) => e['metadata-file'] === location);
  }

  /** A candidate Glue never took: gone, so file-system readers do not take it for the table. */
  private async deleteCandidate(key: string): Promise<void> {
    await this.store.delete([key]).catch(() => {});
  }

  private async getTable(): Promise<Table> {
    try {
      const out = await this.glue.send(
        new GetTableCommand({
          ...(this.ref.catalogId ? { CatalogId: this.ref.catalogId } : {}),
          DatabaseName: this.ref.database,
          Name: this.ref.table,
        }),
      );
      if (!out.Table) throw new IcebergError(`GetTable of ${this.label} answered no table`);
      return out.Table;
    } catch (error) {
      if (error instanceof EntityNotFoundException)
        throw new IcebergError(
          `the Glue table ${this.label} does not exist: deploy the stack (infra/glue-catalog.ts creates it)`,
          { cause: error },
        );
      throw error;
    }
  }

  private keyOf(location: string): string {
    try {
      return uriToKey(this.store, location);
    } catch (error) {
      throw new IcebergError(
        `Glue table ${this.label} names ${location}, outside the lake ${this.store.location}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * Whether metadata is Firelake's table. Glue's own metadata of the table the stack created has
   * no snapshot and no Firelake property: Firelake's first commit replaces it. Metadata with
   * snapshots that Firelake did not write is another table: refused, never overwritten.
   */
  private isFirelakes(metadata: TableMetadata, location: string): boolean {
    if (metadata.properties?.['firelake.table'] !== undefined) return true;
    if ((metadata.snapshots ?? []).length === 0) return false;
    throw new IcebergError(
      `Glue table ${this.label} names ${location}, a table with snapshots Firelake did not write: refusing to replace it`,
    );
  }

  private async namesFirelakeTable(location: string): Promise<boolean> {
    const metadata = await readMetadataFile(this.store, this.keyOf(location));
    return metadata !== undefined && this.isFirelakes(metadata, location);
  }
}
