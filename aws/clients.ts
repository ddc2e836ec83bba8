import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect } from 'node:net';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DEFAULT_REGION } from './region.js';

// Every AWS client is built with this one retry and timeout policy, by a module per service
// (aws/s3.ts, aws/dynamodb.ts, aws/firehose.ts): code that needs one client does not load the
// others (the three take 0.25-0.3 CPU-s to load). Endpoints come from the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> variables (dynalite, s3rver, the local Firehose), never from a
// home-made variable. Callers may pass their own client instead.

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

/** The configuration every client shares: region, retries, sockets and timeouts. */
export function clientConfig(options: ClientOptions) {
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
