import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaClient } from '../../aws/lambda.js';
import { readLambdaAccount } from '../../cli/preflight-account.js';
import { configFromContext, resolveConfig } from '../../infra/config.js';
import { type PreflightReport, preflight } from '../../infra/preflight.js';
import { firelakeAsync, firelakeWith } from '../support/cli.js';
import {
  type AccountSettings,
  NEW_ACCOUNT,
  RAISED_ACCOUNT,
  type RecordedLambdaMock,
  recordedLambdaMock,
} from '../support/recorded-lambda.js';

// `firelake preflight` against a MOCK of the Lambda API with recorded GetAccountSettings answers
// (test/support/recorded-lambda.ts): a real SDK v3 client, its requests checked against the
// operation's shape.

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'eu-west-1' };

const mocks: RecordedLambdaMock[] = [];
let newAccount: RecordedLambdaMock;
let raisedAccount: RecordedLambdaMock;
beforeAll(async () => {
  newAccount = await recordedLambdaMock(NEW_ACCOUNT);
  raisedAccount = await recordedLambdaMock(RAISED_ACCOUNT);
  mocks.push(newAccount, raisedAccount);
});
afterAll(async () => {
  await Promise.all(mocks.map((m) => m.close()));
});

async function check(
  mock: RecordedLambdaMock,
  context: Record<string, string> = {},
): Promise<PreflightReport> {
  const client = lambdaClient(
    { region: 'eu-west-1', maxAttempts: 1 },
    { endpoint: mock.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  );
  try {
    const account = await readLambdaAccount(client);
    return preflight(resolveConfig(configFromContext((key) => context[key])), account);
  } finally {
    client.destroy();
  }
}

const byCheck = (report: PreflightReport) => Object.fromEntries(report.findings.map((f) => [f.check, f]));

describe('firelake preflight', () => {
  it('asks Lambda only GetAccountSettings, as the SDK serializes it: a signed GET with no body', async () => {
    const before = newAccount.requests.length;
    await check(newAccount);
    const sent = newAccount.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'GET', path: '/2016-08-19/account-settings', body: '' });
    expect(sent[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/lambda\/aws4_request/,
    );
  });

  it('passes the default stack on a new account, and says to cap the fan-out at half its 10 executions', async () => {
    const report = await check(newAccount);
    expect(report.deployable).toBe(true);
    expect(report.account).toEqual({ concurrentExecutions: 10, unreservedConcurrentExecutions: 10 });
    const f = byCheck(report);
    expect(f['reserved-concurrency']).toMatchObject({
      level: 'ok',
      message: 'the stack reserves no concurrency',
    });
    expect(f.memory).toMatchObject({ level: 'ok' });
    expect(f['fan-out-concurrency']).toMatchObject({
      level: 'warning',
      change: expect.stringContaining('-c firelake:compactionMaxConcurrency=5'),
    });
    expect(
      (await check(newAccount, { 'firelake:compactionMaxConcurrency': '5' })).findings.map((x) => x.level),
    ).toEqual(['ok', 'ok', 'ok']);
  });

  it('refuses reserved concurrency on a new account, which can reserve none, and says what to change', async () => {
    const report = await check(newAccount, { 'firelake:compactionReservedConcurrency': '1' });
    expect(report.deployable).toBe(false);
    expect(byCheck(report)['reserved-concurrency']).toMatchObject({
      level: 'error',
      message: expect.stringContaining('this account can reserve 0'),
      change: expect.stringMatching(
        /remove firelake:compactionReservedConcurrency=1 .*"Concurrent executions" .*L-B99A9384.* at least 101/,
      ),
    });
  });

  it("warns that 10 GB of compaction memory would fail on a new account's 3,008 MB cap, which the API does not report", async () => {
    const report = await check(newAccount, { 'firelake:compactionMemoryMiB': '10240' });
    expect(report.deployable).toBe(true);
    expect(byCheck(report).memory).toMatchObject({
      level: 'warning',
      message: expect.stringContaining('which the Lambda API does not report'),
      change: expect.stringContaining('-c firelake:compactionMemoryMiB=3008'),
    });
  });

  it('passes reservations, 10 GB and the full fan-out on a raised account', async () => {
    const context = {
      'firelake:transformReservedConcurrency': '100',
      'firelake:compactionReservedConcurrency': '1',
      'firelake:compactionMemoryMiB': '10240',
    };
    const report = await check(raisedAccount, context);
    expect(report.deployable).toBe(true);
    expect(report.findings.map((f) => [f.check, f.level])).toEqual([
      ['reserved-concurrency', 'ok'],
      ['fan-out-concurrency', 'ok'],
      ['memory', 'ok'],
    ]);
    expect(byCheck(report)['reserved-concurrency']!.message).toContain('this account can reserve 850');
    // 950 unreserved, 100 kept back: 851 would fail.
    const over = await check(raisedAccount, { 'firelake:transformReservedConcurrency': '851' });
    expect(byCheck(over)['reserved-concurrency']).toMatchObject({
      level: 'error',
      change: expect.stringContaining('at least 1001'),
    });
  });

  describe('as a command', () => {
    // Not spawnSync: the mock answers from this process.
    const run = (answer: 'new' | 'raised', ...args: string[]) =>
      firelakeAsync(['preflight', ...args], {
        ...CREDENTIALS,
        AWS_ENDPOINT_URL_LAMBDA: (answer === 'new' ? newAccount : raisedAccount).endpoint,
      });

    it('prints the findings and what to change on stdout, exit 0 when the account accepts the stack', async () => {
      const out = await run('new');
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(out.stdout).toContain(
        'Lambda in this account: ConcurrentExecutions 10, UnreservedConcurrentExecutions 10',
      );
      expect(out.stdout).toMatch(
        /^WARNING fan-out-concurrency: .*\n {8}change: -c firelake:compactionMaxConcurrency=5/m,
      );
      expect(out.stdout).toMatch(/the account accepts this stack\n$/);
    });

    it('exits 1 with the report as JSON when the account would refuse the stack', async () => {
      const out = await run('new', '--json', '-c', 'firelake:transformReservedConcurrency=2');
      expect(out.code).toBe(1);
      const report = JSON.parse(out.stdout) as PreflightReport;
      expect(report).toMatchObject({
        deployable: false,
        stack: { reservedConcurrency: { transform: 2, compaction: 0 } },
      });
    });

    it('refuses a bad -c value and a setting out of range, clearly, with a non-zero exit', async () => {
      const bad = await run('raised', '-c', 'nokeyvalue');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/Expected key=value/);
      const range = await run('raised', '-c', 'firelake:compactionMaxConcurrency=0');
      expect(range.code).toBe(1);
      expect(range.stderr).toMatch(
        /firelake \[CONFIG_INVALID\]: .*compaction\.maxConcurrency = 0: expected 1\.\.10000/,
      );
    });

    it('says why when the account cannot be read', () => {
      const out = firelakeWith(
        { ...CREDENTIALS, AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9' },
        'preflight',
      );
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(
        /^firelake \[LAMBDA_SETTINGS_UNREADABLE\]: could not read the account's Lambda settings/,
      );
    });
  });
});

// The recorded answers are the SDK's own output type: a renamed field fails the build.
const _shapes: AccountSettings[] = [NEW_ACCOUNT, RAISED_ACCOUNT];
void _shapes;
