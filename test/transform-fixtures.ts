// Fixtures for the transform tests and bench: catalog events, Firehose records and batches,
// a DynamoDB client on dynalite, and decoding of the transform's output.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
} from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import type { QuarantineRecord, StagedEvent } from '../events/types.js';
import { createTables, startDynalite } from '../local/dynamodb.js';
import type { TransformConfig } from '../transform/config.js';
import type { DynamoSender } from '../transform/dynamo.js';
import { DEFAULT_TABLE_NAMES } from '../transform/tables.js';

export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const seconds = (ms: number) => ms / 1000;

export interface Ev {
  event_uuid: string;
  created_at: number | string;
  event_name: string;
  event_specifics: Record<string, unknown>;
}

export function user(userUuid: string, atMs: number, specifics: Partial<Record<string, unknown>> = {}): Ev {
  return {
    event_uuid: randomUUID(),
    created_at: seconds(atMs),
    event_name: 'user:updated',
    event_specifics: {
      operation: 'update',
      uuid: userUuid,
      name: 'Ada Lovelace',
      firstname: 'Ada',
      lastname: 'Lovelace',
      country: 'GB',
      active: true,
      ...specifics,
    },
  };
}

export function subscription(
  userUuid: string,
  language: string,
  atMs: number,
  specifics: Partial<Record<string, unknown>> = {},
): Ev {
  return {
    event_uuid: randomUUID(),
    created_at: seconds(atMs),
    event_name: 'subscription:updated',
    event_specifics: {
      operation: 'update',
      name: 'Grace Hopper',
      user_uuid: userUuid,
      language,
      subscription_status: 'active',
      subscription_type: 'premium',
      subscription_period: 30,
      ...specifics,
    },
  };
}

export function lesson(userUuid: string, language: string, atMs: number): Ev {
  return {
    event_uuid: randomUUID(),
    created_at: seconds(atMs),
    event_name: 'lesson:completed',
    event_specifics: {
      content_release_id: 'r-2026.11',
      title: 'Ordering food',
      language,
      course_uuid: '3f0e5a52-8a4b-4c55-9a62-1f2b0c6d7e81',
      course_title: 'Travel basics',
      number_of_lessons_in_course: 12,
      completed_lessons_in_course: 3,
      percentage_completed_in_course: 25,
      user_uuid: userUuid,
    },
  };
}

export function game(userUuid: string, atMs: number): Ev {
  return {
    event_uuid: randomUUID(),
    created_at: seconds(atMs),
    event_name: 'game:completed',
    event_specifics: {
      user_uuid: userUuid,
      session_id: randomUUID(),
      device: 'iOS',
      app_version: '5.2.0',
      country: 'DE',
      language_id: 'es',
      difficulty: 'Medium',
      score: 870,
      attempts: 2,
    },
  };
}

let nextRecord = 0;

/** A Firehose record; recordIds are unique per process, as Firehose's are. */
export function record(
  payload: Ev | string | Buffer | unknown,
  arrivalMs = T0,
  recordId = `rec-${++nextRecord}`,
): FirehoseTransformationEventRecord {
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { recordId, approximateArrivalTimestamp: arrivalMs, data: bytes.toString('base64') };
}

export function batch(records: FirehoseTransformationEventRecord[]): FirehoseTransformationEvent {
  return {
    invocationId: randomUUID(),
    deliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/firelake',
    region: 'eu-west-1',
    records,
  };
}

export type Output =
  | {
      recordId: string;
      result: string;
      dataset: 'staging';
      line: StagedEvent;
      keys: Record<string, string>;
      text: string;
    }
  | {
      recordId: string;
      result: string;
      dataset: 'quarantine';
      line: QuarantineRecord;
      keys: Record<string, string>;
      text: string;
    };

/** Decodes every output record: its line, dataset and partition keys. */
export function outputs(result: FirehoseTransformationResult): Output[] {
  return result.records.map((r) => {
    const text = Buffer.from(r.data ?? '', 'base64').toString('utf8');
    const keys = r.metadata?.partitionKeys ?? {};
    return {
      recordId: r.recordId,
      result: r.result,
      dataset: keys.dataset as 'staging',
      line: JSON.parse(text) as StagedEvent,
      keys,
      text,
    };
  }) as Output[];
}

export const staged = (o: Output[]) =>
  o.filter((x): x is Extract<Output, { dataset: 'staging' }> => x.dataset === 'staging').map((x) => x.line);
export const quarantined = (o: Output[]) =>
  o
    .filter((x): x is Extract<Output, { dataset: 'quarantine' }> => x.dataset === 'quarantine')
    .map((x) => x.line);

export function testConfig(overrides: Partial<TransformConfig> = {}): TransformConfig {
  return { tables: { ...DEFAULT_TABLE_NAMES }, dedupTtlHours: 168, lateWindowDays: 7, ...overrides };
}

/** dynalite in memory with the three tables, and a real DynamoDB client on it. */
export async function localDynamo(options: { maxAttempts?: number } = {}) {
  const server = await startDynalite();
  const client = dynamoClient(server.endpoint, options.maxAttempts);
  await createTables(client);
  return {
    endpoint: server.endpoint,
    client,
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/**
 * dynalite for one test file: started before its tests, closed after them. The fields read the
 * running instance, so `dynamo.client` works inside tests.
 */
export function useLocalDynamo(): { readonly client: DynamoDBClient; readonly endpoint: string } {
  let dynamo: Awaited<ReturnType<typeof localDynamo>> | undefined;
  beforeAll(async () => {
    dynamo = await localDynamo();
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  return {
    get client() {
      return dynamo!.client;
    },
    get endpoint() {
      return dynamo!.endpoint;
    },
  };
}

export function dynamoClient(endpoint: string, maxAttempts = 3): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });
}

/**
 * Fault injection over the real client (not a mock): lets the first `writes` PutItems through
 * to dynalite, then fails every call as a network error would after the SDK's retries.
 */
export function failingAfter(client: DynamoDBClient, writes: number): DynamoSender {
  let left = writes;
  return {
    send: (async (command: unknown) => {
      if (command instanceof PutItemCommand && left-- > 0) return client.send(command);
      throw Object.assign(new Error('connect ECONNREFUSED (injected)'), { name: 'TimeoutError' });
    }) as DynamoSender['send'],
  };
}
