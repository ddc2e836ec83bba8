import { FirelakeError } from './errors.js';

// One object-store interface for the lake, with two implementations: S3 (lake/s3-store.ts) and
// a local folder with the same keys (lake/folder-store.ts). Everything that reads or writes the
// lake goes through it, so `--lake ./data/lake` and `--lake s3://bucket/prefix` behave alike.

export interface ObjectInfo {
  key: string;
  size: number;
  /** S3 ETag (quoted, as S3 returns it) or the folder store's content hash. */
  etag: string;
  lastModified: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Write only if no object exists at the key (S3 `If-None-Match: *`). */
  ifNoneMatch?: boolean;
  /** Write only if the current object has this ETag (S3 `If-Match`). */
  ifMatch?: string;
}

/** A conditional put lost: another writer got there first. */
export class PreconditionFailedError extends FirelakeError {
  static override readonly code: string = 'PRECONDITION_FAILED';
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`conditional write to ${key} failed: the object changed`, options);
    this.name = 'PreconditionFailedError';
  }
}

export class ObjectNotFoundError extends FirelakeError {
  static override readonly code: string = 'OBJECT_NOT_FOUND';
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`no object at ${key}`, options);
    this.name = 'ObjectNotFoundError';
  }
}

export interface ObjectStore {
  /** Where the lake is, for messages: a folder path or `s3://bucket/prefix`. */
  readonly location: string;
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }>;
  /** Uploads a local file (multipart on S3 for large ones). */
  putFile(key: string, path: string, options?: { contentType?: string }): Promise<{ etag: string }>;
  get(key: string): Promise<Uint8Array>;
  /** Downloads an object to a local file (streamed, for objects larger than memory). */
  getToFile(key: string, path: string): Promise<void>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object under a prefix, in key order, paginated underneath. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(keys: readonly string[]): Promise<void>;
}

export async function listAll(store: ObjectStore, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of store.list(prefix)) out.push(o);
  return out;
}
