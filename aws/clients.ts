import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect } from 'node:net';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DEFAULT_REGION } from '../lake/settings.js';

// Every AWS client is built here, with one retry and timeout policy. Endpoints come from the
// SDK's own AWS_ENDPOINT_URL_<SERVICE> variables (dynalite, s3rver, the local Firehose), never
// from a home-made variable. Callers may pass their own client instead.

export interface ClientOptions {
  region?: string;
  /** SDK attempts including the first (standard retry mode, exponential backoff with jitter). */
  maxAttempts?: number;
  /** Sockets per client: bounds concurrency and keeps connections alive between calls. */
  maxSockets?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Connect every http:// call to this Unix socket, whatever host the URL names (local/). */
  socketPath?: string;
}

const DEFAULTS = { maxAttempts: 4, maxSockets: 64, connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000 };

function common(options: ClientOptions) {
  const o = { ...DEFAULTS, ...options };
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets });
  if (o.socketPath) {
    const path = o.socketPath;
    Object.assign(httpAgent, { createConnection: () => connect({ path }) });
  }
  return {
    region: o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? DEFAULT_REGION,
    maxAttempts: o.maxAttempts,
    retryMode: 'standard' as const,
    requestHandler: new NodeHttpHandler({
      httpAgent,
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets }),
      connectionTimeout: o.connectionTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
    }),
  };
}

export function dynamoDbClient(
  options: ClientOptions = {},
  extra: Partial<DynamoDBClientConfig> = {},
): DynamoDBClient {
  return new DynamoDBClient({ ...common(options), ...extra });
}

export function s3Client(options: ClientOptions = {}): S3Client {
  // Path-style addressing works with s3rver and with real S3 alike.
  return new S3Client({ ...common(options), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
}

export function firehoseClient(options: ClientOptions = {}): FirehoseClient {
  return new FirehoseClient(common(options));
}
