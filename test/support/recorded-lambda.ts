import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GetAccountSettingsCommandOutput } from '@aws-sdk/client-lambda';

// A MOCK of the Lambda API, for `firelake preflight`: nothing that answers GetAccountSettings
// runs locally, and the check is about accounts a test cannot have (a new one, a raised one).
// A real SDK v3 client reaches it through AWS_ENDPOINT_URL_LAMBDA (or `endpoint`); it answers
// each request with a recorded GetAccountSettings answer and keeps the requests, so a test can
// check them against the operation as the SDK serializes it (GET /2016-08-19/account-settings).

/** A recorded answer, typed by the SDK's own output shape. */
export type AccountSettings = Omit<GetAccountSettingsCommandOutput, '$metadata'>;

/** A new account, as GetAccountSettings answers for one (concurrency quota 10). */
export const NEW_ACCOUNT: AccountSettings = {
  AccountLimit: {
    TotalCodeSize: 80_530_636_800,
    CodeSizeUnzipped: 262_144_000,
    CodeSizeZipped: 52_428_800,
    ConcurrentExecutions: 10,
    UnreservedConcurrentExecutions: 10,
  },
  AccountUsage: { TotalCodeSize: 0, FunctionCount: 0 },
};

/** An account whose quota AWS raised to the default 1,000, with 50 reserved by other functions. */
export const RAISED_ACCOUNT: AccountSettings = {
  AccountLimit: {
    TotalCodeSize: 80_530_636_800,
    CodeSizeUnzipped: 262_144_000,
    CodeSizeZipped: 52_428_800,
    ConcurrentExecutions: 1000,
    UnreservedConcurrentExecutions: 950,
  },
  AccountUsage: { TotalCodeSize: 1_234_567, FunctionCount: 12 },
};

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string;
  body: string;
}

export interface RecordedLambdaMock {
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function recordedLambdaMock(answer: AccountSettings): Promise<RecordedLambdaMock> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: String(req.headers.authorization ?? ''),
      body,
    });
    const known = req.method === 'GET' && req.url === '/2016-08-19/account-settings';
    res.writeHead(known ? 200 : 404, {
      'content-type': 'application/json',
      'x-amzn-requestid': 'recorded',
      ...(known ? {} : { 'x-amzn-errortype': 'ResourceNotFoundException' }),
    });
    res.end(
      JSON.stringify(
        known
          ? answer
          : { message: `the mock answers GetAccountSettings only, not ${req.method} ${req.url}` },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
