import { FirelakeError } from '../lake/errors.js';
import type { ObjectStore } from '../lake/store.js';
import { ObjectNotFoundError, PreconditionFailedError } from '../lake/store.js';
import { CommitUnknownError, IcebergError } from './errors.js';
import { METADATA_PREFIX } from './location.js';
import type { TableMetadata } from './types.js';

// Where the table's current metadata file is recorded, and the atomic swap that commits a new
// one (spec "Commit Conflict Resolution and Retry").

/** A version of the table: its metadata, the file holding it, and the catalog's own token. */
export interface TableVersion {
  metadata: TableMetadata;
  version: number;
  /** Lake key of the metadata file. */
  key: string;
  /** The catalog's version of its pointer (Glue's VersionId); undefined for the file system. */
  token?: string;
}

/** The commit lost: another writer committed on the same base first. Reload and retry. */
export class CommitLostError extends FirelakeError {
  static override readonly code: string = 'ICEBERG_COMMIT_LOST';
  constructor(options?: { cause?: unknown }) {
    super('another writer committed a new version of the table first', options);
    this.name = 'CommitLostError';
  }
}

export interface Catalog {
  readonly name: string;
  /** The current version, or undefined when the table does not exist yet. */
  load(): Promise<TableVersion | undefined>;
  /** Swaps `base` for `next`; throws CommitLostError when `base` is no longer current. */
  commit(base: TableVersion | undefined, next: TableMetadata): Promise<TableVersion>;
}

/**
 * Table property naming the catalog that commits the table when it is not the file system
 * (`glue:<database>.<table>`): a file-system writer refuses such a table, whose commit point is
 * elsewhere, instead of committing a version that catalog would never name.
 */
export const CATALOG_PROPERTY = 'firelake.catalog';

export const VERSION_HINT_KEY = `${METADATA_PREFIX}version-hint.text`;

export function metadataKey(version: number): string {
  return `${METADATA_PREFIX}v${version}.metadata.json`;
}

export function serializeMetadata(metadata: TableMetadata): string {
  return `${JSON.stringify(metadata, null, 2)}\n`;
}

/** Reads a metadata file; undefined when it does not exist. */
export async function readMetadataFile(store: ObjectStore, key: string): Promise<TableMetadata | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as TableMetadata;
    if (doc['format-version'] !== 2) {
      throw new IcebergError(
        `${key}: format-version ${String(doc['format-version'])}, Firelake writes and reads 2`,
      );
    }
    return doc;
  } catch (error) {
    if (error instanceof IcebergError) throw error;
    throw new IcebergError(`${key} is not table metadata JSON`, { cause: error });
  }
}

/**
 * The file-system convention (spec "File System Tables"): `metadata/v<N>.metadata.json`, the
 * current N in `metadata/version-hint.text`. The spec's rename is replaced by an exclusive
 * create, which makes the swap atomic on S3 (a put with `If-None-Match: *`) and on a folder
 * (the folder store's exclusive lock): of two writers of v<N+1>, one succeeds.
 */
export class FileSystemCatalog implements Catalog {
  readonly name = 'file system (version-hint.text)';
  constructor(private readonly store: ObjectStore) {}

  async load(): Promise<TableVersion | undefined> {
    let version = await this.hint();
    if (version === undefined) version = await this.highestListed();
    if (version === undefined) return undefined;
    // The hint is written after the commit: a writer stopped in between leaves it behind.
    for (;;) {
      const next = await readMetadataFile(this.store, metadataKey(version + 1));
      if (!next) break;
      version++;
    }
    const metadata = await readMetadataFile(this.store, metadataKey(version));
    if (!metadata) {
      // The hinted version was deleted (expired metadata): fall back to the listing.
      const listed = await this.highestListed();
      if (listed === undefined || listed === version)
        throw new IcebergError(`no metadata file for version ${version}`);
      return this.load();
    }
    return { metadata, version, key: metadataKey(version) };
  }

  async commit(base: TableVersion | undefined, next: TableMetadata): Promise<TableVersion> {
    const elsewhere = base?.metadata.properties[CATALOG_PROPERTY];
    if (elsewhere)
      throw new IcebergError(
        `the curated table is committed through ${elsewhere}, not the file system: compact it where that catalog is configured (the stack's compaction functions)`,
      );
    const version = (base?.version ?? 0) + 1;
    const key = metadataKey(version);
    const body = serializeMetadata(next);
    try {
      await this.store.put(key, body, { contentType: 'application/json', ifNoneMatch: true });
    } catch (error) {
      if (error instanceof PreconditionFailedError) {
        // Ours, if an earlier attempt's answer was lost and the SDK retried it; another's otherwise.
        const existing = await readMetadataFile(this.store, key).catch(() => undefined);
        if (existing?.['current-snapshot-id'] !== next['current-snapshot-id'])
          throw new CommitLostError({ cause: error });
      } else {
        const existing = await readMetadataFile(this.store, key).catch((e: unknown) => {
          throw new CommitUnknownError(`could not tell whether ${key} was written`, { cause: e });
        });
        if (!existing) throw error;
        if (existing['current-snapshot-id'] !== next['current-snapshot-id'])
          throw new CommitLostError({ cause: error });
      }
    }
    // Advisory only: readers look past it for newer versions.
    await this.store.put(VERSION_HINT_KEY, String(version)).catch(() => {});
    return { metadata: next, version, key };
  }

  private async hint(): Promise<number | undefined> {
    try {
      const text = Buffer.from(await this.store.get(VERSION_HINT_KEY))
        .toString('utf8')
        .trim();
      const n = Number(text);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  private async highestListed(): Promise<number | undefined> {
    let highest: number | undefined;
    for await (const o of this.store.list(METADATA_PREFIX)) {
      const m = /\/v(\d+)\.metadata\.json$/.exec(o.key);
      if (m) highest = Math.max(highest ?? 0, Number(m[1]));
    }
    return highest;
  }
}
