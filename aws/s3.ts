import { S3Client } from '@aws-sdk/client-s3';
import { type ClientOptions, clientConfig } from './clients.js';

export function s3Client(options: ClientOptions = {}): S3Client {
  // Path-style addressing works with s3rver and with real S3 alike.
  return new S3Client({ ...clientConfig(options), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
}
