import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { FirehoseTransformationHandler } from 'aws-lambda';
import { dynamoDbClient } from '../aws/dynamodb.js';
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_NAME_PREFIX } from '../lake/settings.js';
import { loadTransformConfig } from './config.js';
import { transformServiceName } from './metric-names.js';
import { emfSink } from './metrics.js';
import { createTransform } from './transform.js';

// The Lambda entry: config and clients once at cold start (a missing variable fails the init
// with a message naming it), then each invocation is the domain function. DynamoDB's endpoint
// comes from the SDK's AWS_ENDPOINT_URL_DYNAMODB when set.
const config = loadTransformConfig(process.env);
// The stack sets the service (its name prefix's, the dimension its alarms read); a name given to
// the constructors would override the variable, so it is read here and given to both.
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? transformServiceName(DEFAULT_NAME_PREFIX);
const logger = new Logger({ serviceName });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
  serviceName,
});
const transform = createTransform({ dynamodb: dynamoDbClient(), config, metrics: emfSink(metrics), logger });

export const handler: FirehoseTransformationHandler = async (event) => {
  try {
    return await transform(event);
  } catch (error) {
    // Thrown on purpose (DynamoDB down): Firehose retries the batch; dedup makes that safe.
    logger.error('batch failed, Firehose will retry it', { invocationId: event.invocationId, error });
    throw error;
  }
};
