import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** A real S3 client pointed at s3rver (path-style, dummy credentials). */
  client: S3Client;
  close(): Promise<void>;
}

/** s3rver (S3 on the file system) on loopback with one bucket, for tests of the S3 code path. */
export async function startS3rver(bucket = 'firelake-test'): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'firelake-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  // s3rver predates S3's conditional writes (If-None-Match / If-Match on PutObject, 2024).
  // This middleware adds them in front of its router, serialised per key as S3 does, so the
  // compaction's manifest switch is tested against the same 412 answer real S3 gives.
  server.middleware.unshift(conditionalWrites());
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    endpoint,
    bucket,
    client,
    close: async () => {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

interface KoaContext {
  method: string;
  path: string;
  get(header: string): string;
  store: { getMetadata(bucket: string, key: string): Promise<{ etag?: string } | undefined> };
  status: number;
  type: string;
  body: unknown;
}

function conditionalWrites() {
  const locks = new Map<string, Promise<unknown>>();
  return async (ctx: KoaContext, next: () => Promise<void>) => {
    const noneMatch = ctx.get('if-none-match');
    const match = ctx.get('if-match');
    if (ctx.method !== 'PUT' || (!noneMatch && !match)) return next();
    const [, bucket, ...rest] = decodeURIComponent(ctx.path).split('/');
    const key = rest.join('/');
    const previous = locks.get(`${bucket}/${key}`) ?? Promise.resolve();
    const run = previous.then(async () => {
      const current = await ctx.store.getMetadata(bucket!, key).catch(() => undefined);
      const etag = current?.etag?.replace(/"/g, '');
      const lost = (noneMatch === '*' && current) || (match && etag !== match.replace(/"/g, ''));
      if (lost) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
          '<Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
        return;
      }
      await next();
    });
    locks.set(
      `${bucket}/${key}`,
      run.catch(() => undefined),
    );
    await run;
  };
}
