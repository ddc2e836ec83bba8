import { GlueClient } from '@aws-sdk/client-glue';
import { type ClientOptions, clientConfig } from './clients.js';

export function glueClient(options: ClientOptions = {}): GlueClient {
  return new GlueClient(clientConfig(options));
}
