import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { s3Client } from '../../aws/s3.js';
import { FirelakeError } from '../../lake/errors.js';
import { S3Store } from '../../lake/s3-store.js';
import { DEFAULT_METRICS_NAMESPACE } from '../../lake/settings.js';
import { checkManifest, dayDueAt, MANIFEST_CHECK_METRICS } from './check.js';

// The manifest-deadline Lambda: invoked by EventBridge Scheduler with
// {"scheduledTime": "<aws.scheduler.scheduled-time>"}, or {"date": "YYYY-MM-DD"} by hand.

class ManifestCheckConfigError extends FirelakeError {
  static override readonly code: string = 'MANIFEST_CHECK_CONFIG_INVALID';
  override name = 'ManifestCheckConfigError';
}

const bucket = process.env.LAKE_BUCKET;
if (!bucket) throw new ManifestCheckConfigError('LAKE_BUCKET is not set: the check needs the lake bucket');
const store = new S3Store(s3Client(), bucket, process.env.LAKE_PREFIX ?? '');
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
  serviceName: MANIFEST_CHECK_METRICS.service,
});

export const handler = async (event: { scheduledTime?: string; date?: string } | null) => {
  const at = new Date(event?.scheduledTime ?? Date.now());
  if (Number.isNaN(at.getTime())) {
    throw new ManifestCheckConfigError(`scheduledTime "${event?.scheduledTime}" is not a time`);
  }
  const result = await checkManifest(store, event?.date ?? dayDueAt(at));
  metrics.addMetric(MANIFEST_CHECK_METRICS.metric, MetricUnit.Count, result.present ? 0 : 1);
  metrics.publishStoredMetrics();
  console.log(JSON.stringify({ message: result.present ? 'manifest found' : 'manifest missing', ...result }));
  return result;
};
