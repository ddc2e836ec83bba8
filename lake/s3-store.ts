import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  PreconditionFailedError,
  type PutOptions,
} from './store.js';

/** The lake in an S3 bucket, under an optional prefix, through the AWS SDK v3 client. */
export class S3Store implements ObjectStore {
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    prefix = '',
  ) {
    this.prefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  }

  get location(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: body,
          ContentType: options.contentType,
          IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
          IfMatch: options.ifMatch,
        }),
      );
      return { etag: out.ETag ?? '' };
    } catch (error) {
      if (error instanceof S3ServiceException && [412, 409].includes(error.$metadata.httpStatusCode ?? 0)) {
        throw new PreconditionFailedError(key, { cause: error });
      }
      throw error;
    }
  }

  async putFile(
    key: string,
    path: string,
    options: { contentType?: string } = {},
  ): Promise<{ etag: string }> {
    // lib-storage switches to multipart above its part size and uploads parts in parallel.
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.prefix + key,
        Body: createReadStream(path),
        ContentType: options.contentType,
      },
      partSize: 64 * 1024 * 1024,
      queueSize: 4,
    });
    const out = await upload.done();
    return { etag: out.ETag ?? '' };
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      return await out.Body!.transformToByteArray();
    } catch (error) {
      throw notFound(error, key);
    }
  }

  async getToFile(key: string, path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      await pipeline(out.Body as Readable, createWriteStream(path));
    } catch (error) {
      throw notFound(error, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: out.ETag ?? '',
        lastModified: out.LastModified ?? new Date(0),
      };
    } catch (error) {
      if (notFound(error, key) instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) {
        yield {
          key: o.Key!.slice(this.prefix.length),
          size: o.Size ?? 0,
          etag: o.ETag ?? '',
          lastModified: o.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const out = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: chunk.map((k) => ({ Key: this.prefix + k })), Quiet: true },
        }),
      );
      if (out.Errors?.length) {
        const first = out.Errors[0]!;
        throw new Error(
          `could not delete ${out.Errors.length} objects, first ${first.Key}: ${first.Message}`,
        );
      }
    }
  }
}

function notFound(error: unknown, key: string): unknown {
  if (
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404)
  ) {
    return new ObjectNotFoundError(key, { cause: error });
  }
  return error;
}
