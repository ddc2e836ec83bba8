import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { type ClientOptions, clientConfig } from './clients.js';

export function dynamoDbClient(
  options: ClientOptions = {},
  extra: Partial<DynamoDBClientConfig> = {},
): DynamoDBClient {
  return new DynamoDBClient({ ...clientConfig(options), ...extra });
}
