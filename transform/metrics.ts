import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { QUARANTINE_REASONS, type QuarantineReason } from '../events/types.js';
import { TRANSFORM_METRICS as M, REASON_DIMENSION } from './metric-names.js';

/** What one invocation did, counted. The handler turns it into EMF; the local runtime sums it. */
export interface BatchCounts {
  records: number;
  staged: number;
  quarantined: Record<QuarantineReason, number>;
  /** Records that could not even be wrapped (sent to Firehose's processing-failed output). */
  processingFailed: number;
  /** Same as quarantined.duplicate / quarantined.uuid_conflict, for the metrics that name them apart. */
  duplicates: number;
  conflicts: number;
  stateWrites: number;
  staleStateWrites: number;
  lessons: number;
  /** Lessons whose enrichment_status is not `complete`. */
  enrichmentMisses: number;
  /** DynamoDB requests made (each SDK call once; the SDK's own retries are not counted). */
  dynamodbReads: number;
  dynamodbWrites: number;
}

export function emptyCounts(): BatchCounts {
  return {
    records: 0,
    staged: 0,
    quarantined: Object.fromEntries(QUARANTINE_REASONS.map((r) => [r, 0])) as Record<
      QuarantineReason,
      number
    >,
    processingFailed: 0,
    duplicates: 0,
    conflicts: 0,
    stateWrites: 0,
    staleStateWrites: 0,
    lessons: 0,
    enrichmentMisses: 0,
    dynamodbReads: 0,
    dynamodbWrites: 0,
  };
}

/** Adds b into a (for totals over many invocations). */
export function addCounts(a: BatchCounts, b: BatchCounts): BatchCounts {
  for (const key of Object.keys(b) as (keyof BatchCounts)[]) {
    if (key === 'quarantined') {
      for (const r of QUARANTINE_REASONS) a.quarantined[r] += b.quarantined[r];
    } else a[key] += b[key];
  }
  return a;
}

/** Where the counts of each invocation go. */
export interface MetricsSink {
  publish(counts: BatchCounts): void;
}

/** Sums every invocation's counts; the local runtime and tests read `totals`. */
export function countingSink(): MetricsSink & { totals: BatchCounts; invocations: number } {
  const sink = {
    totals: emptyCounts(),
    invocations: 0,
    publish(counts: BatchCounts) {
      addCounts(sink.totals, counts);
      sink.invocations++;
    },
  };
  return sink;
}

/**
 * CloudWatch metrics in Embedded Metric Format through Powertools: one EMF line per invocation
 * with the totals, and one per quarantine reason that occurred (dimension `reason`), so alarms
 * can be set on any reason without a metric per reason name.
 */
export function emfSink(metrics: Metrics): MetricsSink {
  return {
    publish(c) {
      const count = MetricUnit.Count;
      metrics.addMetric(M.recordsIn, count, c.records);
      metrics.addMetric(M.staged, count, c.staged);
      metrics.addMetric(M.quarantined, count, c.records - c.staged - c.processingFailed);
      metrics.addMetric(M.processingFailed, count, c.processingFailed);
      metrics.addMetric(M.duplicates, count, c.duplicates);
      metrics.addMetric(M.uuidConflicts, count, c.conflicts);
      metrics.addMetric(M.stateWrites, count, c.stateWrites);
      metrics.addMetric(M.staleStateWrites, count, c.staleStateWrites);
      metrics.addMetric(M.lessons, count, c.lessons);
      metrics.addMetric(M.enrichmentMisses, count, c.enrichmentMisses);
      metrics.addMetric(M.dynamodbReads, count, c.dynamodbReads);
      metrics.addMetric(M.dynamodbWrites, count, c.dynamodbWrites);
      metrics.publishStoredMetrics();
      for (const reason of QUARANTINE_REASONS) {
        const n = c.quarantined[reason];
        if (n === 0) continue;
        const single = metrics.singleMetric();
        single.addDimension(REASON_DIMENSION, reason);
        single.addMetric(M.quarantinedByReason, count, n);
      }
    },
  };
}

/** The logging the transform does: Powertools' Logger fits; tests and the local runtime may pass none. */
export interface TransformLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}
