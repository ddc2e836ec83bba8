import { resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { FolderStore } from './folder-store.js';
import { DEFAULT_LAKE } from './settings.js';
import type { ObjectStore } from './store.js';

/**
 * Opens the lake a `--lake` value names: a folder path, or `s3://bucket[/prefix]`. The S3 client
 * and store load only for an S3 lake: a command on a folder lake runs without the AWS SDK
 * (`firelake quality` on an empty folder lake starts in 0.37 CPU-s; docs/testing.md).
 */
export async function openLake(
  spec: string = DEFAULT_LAKE,
  options: { s3?: S3Client } = {},
): Promise<ObjectStore> {
  if (spec.startsWith('s3://')) {
    const rest = spec.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new Error(`"${spec}" does not name an S3 bucket: expected s3://bucket[/prefix]`);
    }
    const [{ S3Store }, { s3Client }] = await Promise.all([import('./s3-store.js'), import('../aws/s3.js')]);
    return new S3Store(options.s3 ?? s3Client(), bucket, prefix);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new Error(`unsupported lake "${spec}": give a folder path or s3://bucket[/prefix]`);
  }
  return new FolderStore(resolve(spec));
}
