import { FirehoseClient } from '@aws-sdk/client-firehose';
import { type ClientOptions, clientConfig } from './clients.js';

export function firehoseClient(options: ClientOptions = {}): FirehoseClient {
  return new FirehoseClient(clientConfig(options));
}
