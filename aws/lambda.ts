import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { type ClientOptions, clientConfig } from './clients.js';

export function lambdaClient(
  options: ClientOptions = {},
  extra: Partial<LambdaClientConfig> = {},
): LambdaClient {
  return new LambdaClient({ ...clientConfig(options), ...extra });
}
