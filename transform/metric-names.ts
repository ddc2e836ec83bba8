import { transformFunctionNameFor } from '../lake/settings.js';

// The transform's CloudWatch contract, named once: the EMF metrics it publishes
// (transform/metrics.ts), which the stack's alarms and dashboard read (infra/monitoring.ts), and
// the service they are published under. No Powertools import: the CDK app loads this too.

export const TRANSFORM_METRICS = {
  recordsIn: 'RecordsIn',
  staged: 'Staged',
  quarantined: 'Quarantined',
  processingFailed: 'ProcessingFailed',
  duplicates: 'Duplicates',
  uuidConflicts: 'UuidConflicts',
  stateWrites: 'StateWrites',
  staleStateWrites: 'StaleStateWrites',
  lessons: 'Lessons',
  enrichmentMisses: 'EnrichmentMisses',
  dynamodbReads: 'DynamoDBReadRequests',
  dynamodbWrites: 'DynamoDBWriteRequests',
  /** One per quarantine reason that occurred, with the dimension REASON_DIMENSION. */
  quarantinedByReason: 'QuarantinedByReason',
} as const;

export const REASON_DIMENSION = 'reason';

/**
 * The transform's Powertools service under a name prefix: the `service` of its logs and the
 * `service` dimension of its metrics. Its function's name, so that two stacks of different
 * prefixes publishing to one namespace keep their metrics apart. The stack passes it to the
 * function as POWERTOOLS_SERVICE_NAME, which transform/handler.ts reads.
 */
export function transformServiceName(namePrefix: string): string {
  return transformFunctionNameFor(namePrefix);
}
