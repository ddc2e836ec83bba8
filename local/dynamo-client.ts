import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../aws/dynamodb.js';

// The in-process transform's DynamoDB client in the local runtime: the real SDK client, with the
// per-call work that means nothing against dynalite left out. The transform makes one call per
// event (its dedup write), so this per-call work is much of the local pipeline's CPU per event
// (docs/benchmarks-local.md); `npm run bench dynalite-client` measures each part against the plain
// client in one run.
//
// - unsigned: dynalite checks that an Authorization header of SigV4's shape is there, never its
//   signature (the local credentials are dummies); a fixed header replaces the HMAC chain.
// - no logger middleware: the client's logger is the SDK's no-op one, yet the middleware passes
//   every input and output through the schema's sensitive-data filter on each call.
// - a Unix socket: dynalite (in its own process) listens on one beside its TCP port; a call then
//   skips the loopback TCP stack in both processes. The TCP endpoint stays what tools use.
// - the middleware stack resolved once per command class (the SDK's `cacheMiddleware`), not on
//   every call: the transform adds no middleware to a command nor passes per-call options, so
//   each call runs the same stack, built once.
// - no user-agent middleware: dynalite reads no User-Agent, yet the middleware escapes and joins
//   the SDK's user-agent sections on every call.
//
// Measured gain (CPU ms per event, transform + dynalite processes, vs the plain client, three
// runs on a loaded 2-core machine): unsigned 0.71-0.92x, no logger 0.80-0.94x, Unix socket
// 0.85-0.94x, all three 0.55-0.75x. Then, the transform process's CPU per event (two runs, load 3
// to 4): the middleware resolved once 0.81-0.92x of the plain client, no user-agent middleware
// 0.87-0.95x, both on top of the first three 0.74-0.80x of those three alone. Checked against the
// plain client, calls in flight together included: test/integration/local-dynamo-client.test.ts.
// Retries, timeouts and keep-alive stay those of aws/clients.ts.

export interface LocalDynamoClientOptions {
  region?: string;
  /** dynalite's Unix socket (startDynalite's socketPath); TCP to AWS_ENDPOINT_URL_DYNAMODB without. */
  socketPath?: string;
  /** Leave the SigV4 signature out (default true). */
  unsigned?: boolean;
  /** Leave the logger middleware out (default true). */
  withoutLogger?: boolean;
  /** Resolve the middleware stack once per command class (default true). */
  cacheMiddleware?: boolean;
  /** Leave the user-agent middleware out (default true). */
  withoutUserAgent?: boolean;
}

export function localDynamoDbClient(options: LocalDynamoClientOptions = {}): DynamoDBClient {
  const { unsigned = true, withoutLogger = true, cacheMiddleware = true, withoutUserAgent = true } = options;
  const client = dynamoDbClient(
    { region: options.region, socketPath: options.socketPath },
    // dynalite takes any credentials: dummies, whatever the environment holds.
    {
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      cacheMiddleware,
      ...(unsigned ? { httpAuthSchemes: [UNSIGNED_SIGV4] } : {}),
    },
  );
  if (withoutLogger) client.middlewareStack.remove('loggerMiddleware');
  if (withoutUserAgent) client.middlewareStack.remove('getUserAgentMiddleware');
  return client;
}

/** SigV4's header shape with no signature in it: all that dynalite checks. */
type HttpAuthScheme = NonNullable<DynamoDBClientConfig['httpAuthSchemes']>[number];
type HttpRequest = Parameters<HttpAuthScheme['signer']['sign']>[0];
const UNSIGNED_SIGV4: HttpAuthScheme = {
  schemeId: 'aws.auth#sigv4',
  identityProvider: () => async () => ({}),
  signer: {
    async sign(request: HttpRequest): Promise<HttpRequest> {
      const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
      request.headers['x-amz-date'] = date;
      request.headers.authorization = `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=unsigned`;
      return request;
    },
  },
};
