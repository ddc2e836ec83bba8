import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbClient } from '../../aws/dynamodb.js';
import { benchBatches, benchConfig, lastArrival } from '../../bench/transform-records.js';
import { localDynamoDbClient } from '../../local/dynamo-client.js';
import { createTables, type LocalDynamo, startDynalite } from '../../local/dynamodb.js';
import { createTransform } from '../../transform/transform.js';

// The local runtime's DynamoDB client (unsigned, without the logger and user-agent middleware,
// its middleware built once per command class, over dynalite's Unix socket) against the plain SDK
// client over TCP: the same calls on two dynalites in the same state give the same answers and the same
// errors, alone or in flight together, and the real transform the same output.

let plainDynamo: LocalDynamo;
let localDynamo: LocalDynamo;
let plain: DynamoDBClient;
let local: DynamoDBClient;
let endpointBefore: string | undefined;
beforeAll(async () => {
  plainDynamo = await startDynalite();
  localDynamo = await startDynalite({ separateProcess: true, unixSocket: true });
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  plain = dynamoDbClient(
    { region: 'us-east-1', maxAttempts: 1 },
    { endpoint: plainDynamo.endpoint, credentials },
  );
  // Its URL names a port where nothing listens: every call must go through the socket.
  endpointBefore = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
  local = localDynamoDbClient({ region: 'us-east-1', socketPath: localDynamo.socketPath });
  await createTables(plain);
  await createTables(local);
});
afterAll(async () => {
  if (endpointBefore === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  else process.env.AWS_ENDPOINT_URL_DYNAMODB = endpointBefore;
  plain?.destroy();
  local?.destroy();
  await plainDynamo?.close();
  await localDynamo?.close();
});

/** The answer of a call without its per-request metadata, or the error's name and message. */
async function answer(client: DynamoDBClient, command: unknown) {
  try {
    const { $metadata, ...output } = (await client.send(command as never)) as { $metadata: unknown };
    return { output };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

const marker = (uuid: string, fp: string): PutItemCommandInput => ({
  TableName: 'firelake-dedup',
  Item: { event_uuid: { S: uuid }, fingerprint: { S: fp }, expires_at: { N: '2000000000' } },
  ConditionExpression: 'attribute_not_exists(#u) OR #fp = :fp',
  ExpressionAttributeNames: { '#u': 'event_uuid', '#fp': 'fingerprint' },
  ExpressionAttributeValues: { ':fp': { S: fp } },
});

describe('the local DynamoDB client', () => {
  it('answers every call as the plain client does, errors included', async () => {
    const calls = [
      new PutItemCommand(marker('a', 'fp-a')),
      new PutItemCommand(marker('a', 'fp-a')),
      new PutItemCommand(marker('a', 'fp-other')),
      new PutItemCommand({ ...marker('b', 'fp-b'), ReturnValues: 'ALL_OLD' }),
      new GetItemCommand({ TableName: 'firelake-dedup', Key: { event_uuid: { S: 'a' } } }),
      new BatchGetItemCommand({
        RequestItems: {
          'firelake-dedup': { Keys: [{ event_uuid: { S: 'a' } }, { event_uuid: { S: 'zz' } }] },
        },
      }),
      new PutItemCommand({ ...marker('c', 'fp'), TableName: 'no-such-table' }),
      new PutItemCommand({ ...marker('c', 'fp'), ConditionExpression: 'attribute_not_exists(' }),
    ];
    const plainAnswers = [];
    const localAnswers = [];
    for (const call of calls) {
      plainAnswers.push(await answer(plain, call));
      localAnswers.push(await answer(local, call));
    }
    expect(localAnswers).toEqual(plainAnswers);
    expect(existsSync(localDynamo.socketPath!)).toBe(true);
    // The local client ran without the middleware it leaves out; the plain one with it.
    const names = (c: DynamoDBClient) => c.middlewareStack.identify().map((n) => n.split(' ')[0]);
    expect(names(plain)).toEqual(expect.arrayContaining(['loggerMiddleware', 'getUserAgentMiddleware']));
    expect(names(local)).not.toContain('loggerMiddleware');
    expect(names(local)).not.toContain('getUserAgentMiddleware');
    // Not vacuous: both kinds of answer are in there.
    expect(plainAnswers.map((a) => ('error' in a ? a.error : 'ok'))).toEqual([
      'ok',
      'ok',
      'ConditionalCheckFailedException',
      'ok',
      'ok',
      'ok',
      'ResourceNotFoundException',
      'ValidationException',
    ]);
  });

  it('gives the real transform the same output, duplicates across batches included', async () => {
    const batches = benchBatches(400, 5);
    // Records of the first batch resent later (new records, new arrivals): duplicates found
    // through DynamoDB, not within the batch.
    const again = {
      ...batches[0]!,
      invocationId: 'again',
      records: batches[0]!.records.slice(0, 100).map((r) => ({
        ...r,
        recordId: `${r.recordId}-again`,
        approximateArrivalTimestamp: r.approximateArrivalTimestamp + 1_000,
      })),
    };
    const now = () => lastArrival(batches[0]!);
    const viaPlain = createTransform({ dynamodb: plain, config: benchConfig, now });
    const viaLocal = createTransform({ dynamodb: local, config: benchConfig, now });
    for (const batch of [...batches, again]) {
      const expected = await viaPlain(batch);
      expect(await viaLocal(batch)).toEqual(expected);
      // Not vacuous: the records seen before come back as duplicates' tombstones (quarantine).
      if (batch === again) {
        const datasets = expected.records.map((r) => r.metadata?.partitionKeys?.dataset);
        expect(datasets.filter((d) => d !== 'quarantine')).toEqual([]);
      }
    }
  });

  it('answers calls in flight together each with its own result through its once-built middleware', async () => {
    // The local client resolves its middleware stack once per command class (cacheMiddleware):
    // calls in flight together then share it, and must still each get their own answer.
    expect(local.config.cacheMiddleware).toBe(true);
    const calls = Array.from({ length: 120 }, (_, n) => {
      const uuid = `together-${n % 40}`;
      // Per uuid: a first write, the same fingerprint again (ok), another one (condition fails).
      if (n < 40) return new PutItemCommand(marker(uuid, 'fp'));
      if (n < 80) return new PutItemCommand({ ...marker(uuid, 'fp'), ReturnValues: 'ALL_OLD' });
      return new GetItemCommand({ TableName: 'firelake-dedup', Key: { event_uuid: { S: uuid } } });
    });
    const conflicting = Array.from(
      { length: 40 },
      (_, n) => new PutItemCommand(marker(`together-${n}`, `other-${n}`)),
    );
    const run = async (client: DynamoDBClient) => {
      const first = await Promise.all(calls.slice(0, 40).map((c) => answer(client, c)));
      const rest = await Promise.all([...calls.slice(40), ...conflicting].map((c) => answer(client, c)));
      return [...first, ...rest];
    };
    const plainAnswers = await run(plain);
    expect(await run(local)).toEqual(plainAnswers);
    // Not vacuous: each call's own item and outcome came back (old items by uuid, failures).
    const errors = plainAnswers.filter((a) => 'error' in a).map((a) => a.error);
    expect(errors).toEqual(Array(40).fill('ConditionalCheckFailedException'));
    const items = plainAnswers
      .slice(80, 120)
      .map((a) =>
        'output' in a ? (a.output as { Item?: { event_uuid?: { S?: string } } }).Item?.event_uuid?.S : '',
      );
    expect(items).toEqual(Array.from({ length: 40 }, (_, n) => `together-${n}`));
  });

  it("leaves no socket folder behind once dynalite's process has stopped", async () => {
    const other = await startDynalite({ separateProcess: true, unixSocket: true });
    const folder = dirname(other.socketPath!);
    expect(existsSync(folder)).toBe(true);
    await other.close();
    expect(existsSync(folder)).toBe(false);
  });
});
