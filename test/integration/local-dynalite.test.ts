import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables, type LocalDynamo, startDynalite } from '../../local/dynamodb.js';

// dynalite with its condition-expression parses cached (local/dynalite-parse-cache.ts) must
// answer exactly as dynalite does: same outcomes for new values, same validation errors.

let dynamo: LocalDynamo;
let client: DynamoDBClient;
beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  await createTables(client);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

const CONDITION =
  'attribute_not_exists(event_uuid) OR (fingerprint = :fp AND record_id = :rid) OR expires_at < :now';
const put = (uuid: string, fp: string, rid: string, extra: Record<string, { S: string }> = {}) =>
  client.send(
    new PutItemCommand({
      TableName: 'firelake-dedup',
      Item: {
        event_uuid: { S: uuid },
        fingerprint: { S: fp },
        record_id: { S: rid },
        expires_at: { N: '2000000000' },
      },
      ConditionExpression: CONDITION,
      ExpressionAttributeValues: {
        ':fp': { S: fp },
        ':rid': { S: rid },
        ':now': { N: '1700000000' },
        ...extra,
      },
    }),
  );

describe('dynalite with cached condition parses', () => {
  it('evaluates each request with its own values', async () => {
    for (let i = 0; i < 20; i++) await put(`u-${i}`, `fp-${i}`, `r-${i}`);
    await put('u-3', 'fp-3', 'r-3'); // the same record again: the condition holds
    await expect(put('u-3', 'fp-other', 'r-3')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(put('u-4', 'fp-4', 'r-other')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('still refuses a value the expression does not use', async () => {
    await put('v-1', 'fp', 'r');
    await expect(put('v-2', 'fp', 'r', { ':spare': { S: 'x' } })).rejects.toThrow(
      /unused in expressions: keys: \{:spare\}/,
    );
  });

  it('still validates expressions whose checks depend on the values', async () => {
    await expect(
      client.send(
        new PutItemCommand({
          TableName: 'firelake-dedup',
          Item: { event_uuid: { S: 'w-1' } },
          ConditionExpression: 'expires_at BETWEEN :hi AND :lo',
          ExpressionAttributeValues: { ':hi': { N: '9' }, ':lo': { N: '1' } },
        }),
      ),
    ).rejects.toThrow(/BETWEEN operator requires upper bound to be greater than or equal to lower bound/);
  });
});
