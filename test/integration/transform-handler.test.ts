import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Context, FirehoseTransformationResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTransformConfig, TransformConfigError } from '../../transform/config.js';
import { DynamoUnavailableError } from '../../transform/dynamo.js';
import { createTransform } from '../../transform/transform.js';
import {
  batch,
  dynamoClient,
  game,
  lesson,
  localDynamo,
  outputs,
  record,
  T0,
  testConfig,
  user,
} from '../transform-fixtures.js';

const TABLE_ENV = { DEDUP_TABLE: 'd', USERS_TABLE: 'u', SUBSCRIPTIONS_TABLE: 's' };

describe('transform config', () => {
  it('reads the table names and applies the defaults', () => {
    expect(loadTransformConfig(TABLE_ENV)).toEqual({
      tables: { dedup: 'd', users: 'u', subscriptions: 's' },
      dedupTtlHours: 168,
      lateWindowDays: 7,
    });
    expect(loadTransformConfig({ ...TABLE_ENV, DEDUP_TTL_HOURS: '24', LATE_WINDOW_DAYS: '3' })).toMatchObject(
      {
        dedupTtlHours: 24,
        lateWindowDays: 3,
      },
    );
  });

  it('names every missing or malformed variable in one clear error', () => {
    const attempt = () => loadTransformConfig({ USERS_TABLE: 'u', DEDUP_TTL_HOURS: 'a week' });
    expect(attempt).toThrow(TransformConfigError);
    expect(attempt).toThrow(
      /DEDUP_TABLE is not set.*SUBSCRIPTIONS_TABLE is not set.*DEDUP_TTL_HOURS="a week"/,
    );
  });
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('transform outage', () => {
  it('throws, so that Firehose retries the batch, when DynamoDB cannot be reached', async () => {
    const client = dynamoClient(`http://127.0.0.1:${await closedPort()}`, 2);
    const run = createTransform({ dynamodb: client, config: testConfig(), now: () => T0 });
    const input = batch([record(game(randomUUID(), T0)), record('not json')]);
    await expect(run(input)).rejects.toBeInstanceOf(DynamoUnavailableError);
    await expect(run(input)).rejects.toThrow(/PutItem on firelake-dedup failed after the SDK's retries/);
    client.destroy();
  });

  it('needs no DynamoDB for a batch with nothing to stage', async () => {
    const client = dynamoClient(`http://127.0.0.1:${await closedPort()}`, 1);
    const run = createTransform({ dynamodb: client, config: testConfig(), now: () => T0 });
    const result = await run(batch([record('not json'), record(game(randomUUID(), T0 + 3_600_000))]));
    expect(outputs(result).map((o) => o.dataset)).toEqual(['quarantine', 'quarantine']);
    client.destroy();
  });
});

describe('transform handler', () => {
  let dynamo: Awaited<ReturnType<typeof localDynamo>>;
  const saved = { ...process.env };
  beforeAll(async () => {
    dynamo = await localDynamo();
  });
  afterEach(() => {
    process.env = { ...saved };
    vi.resetModules();
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  function coldStartEnv(endpoint: string) {
    Object.assign(process.env, {
      DEDUP_TABLE: testConfig().tables.dedup,
      USERS_TABLE: testConfig().tables.users,
      SUBSCRIPTIONS_TABLE: testConfig().tables.subscriptions,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_METRICS_NAMESPACE: 'FirelakeTest',
    });
  }

  /**
   * Captures what the process writes to stdout and stderr (EMF and JSON logs, in Lambda). Node's
   * own warnings are not the handler's: the worker process is shared with other test files
   * (vitest.config.ts), and a warning their leftovers cause may come while the handler runs.
   */
  function captureOutput(): string[] {
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(
          ...String(chunk)
            .split('\n')
            .filter((l) => l && !/^\(node:\d+\) /.test(l)),
        );
        return true;
      });
    }
    return lines;
  }

  it('transforms a batch with config and client from the environment and emits EMF metrics', async () => {
    coldStartEnv(dynamo.endpoint);
    const { handler } = await import('../../transform/handler.js');
    const u = randomUUID();
    const input = batch([
      record(user(u, Date.now() - 5000), Date.now()),
      record(lesson(u, 'es', Date.now() - 1000), Date.now()),
      record('{oops', Date.now()),
    ]);
    const stdout = captureOutput();
    const result = (await handler(input, {} as Context, () => undefined)) as FirehoseTransformationResult;
    vi.restoreAllMocks();
    expect(outputs(result).map((o) => o.dataset)).toEqual(['staging', 'staging', 'quarantine']);
    const emf = stdout.map((l) => JSON.parse(l)).filter((j) => j._aws);
    const totals = emf.find((j) => 'RecordsIn' in j);
    expect(totals).toMatchObject({
      RecordsIn: 3,
      Staged: 2,
      Quarantined: 1,
      Lessons: 1,
      EnrichmentMisses: 1,
    });
    expect(totals._aws.CloudWatchMetrics[0].Namespace).toBe('FirelakeTest');
    expect(emf.find((j) => j.reason === 'invalid_json')).toMatchObject({ QuarantinedByReason: 1 });
    const log = stdout.map((l) => JSON.parse(l)).find((j) => j.message === 'batch transformed');
    expect(log).toMatchObject({ level: 'INFO', invocationId: input.invocationId, staged: 2 });
  });

  it('fails at cold start, naming the variable, when a table name is missing', async () => {
    coldStartEnv(dynamo.endpoint);
    delete process.env.USERS_TABLE;
    await expect(import('../../transform/handler.js')).rejects.toThrow(/USERS_TABLE is not set/);
  });

  it('throws rather than drop records when DynamoDB is down', async () => {
    coldStartEnv(`http://127.0.0.1:${await closedPort()}`);
    const { handler } = await import('../../transform/handler.js');
    const output = captureOutput();
    await expect(
      handler(batch([record(game(randomUUID(), Date.now()), Date.now())]), {} as Context, () => undefined),
    ).rejects.toThrow(/failed after the SDK's retries/);
    vi.restoreAllMocks();
    const logged = output.map((l) => JSON.parse(l)).find((j) => j.level === 'ERROR');
    expect(logged).toMatchObject({
      message: 'batch failed, Firehose will retry it',
      error: { name: 'DynamoUnavailableError' },
    });
  });
});
