import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUARANTINE_REASONS } from '../events/types.js';
import { TRANSFORM_METRICS as M, REASON_DIMENSION, transformServiceName } from '../transform/metric-names.js';
import type { TableId } from '../transform/tables.js';
import type { FirelakeConfig } from './config.js';
import { MANIFEST_CHECK_METRICS } from './manifest-check/check.js';

// Alarms to one SNS topic (optionally e-mailed) and one dashboard. Every alarm says what to do
// first in its description, because it is read at 3 a.m.

export interface MonitoringProps {
  namePrefix: string;
  alarms: FirelakeConfig['alarms'];
  metricsNamespace: string;
  stream: firehose.IDeliveryStream;
  transform: lambda.IFunction;
  compaction: lambda.IFunction;
  manifestCheck: lambda.IFunction;
  compactionDeadLetters: sqs.IQueue;
  tables: Record<TableId, dynamodb.ITable>;
}

/** The transform's EMF metrics (transform/metric-names.ts) shown on the dashboard. */
export const TRANSFORM_METRIC_NAMES = [
  M.recordsIn,
  M.staged,
  M.quarantined,
  M.duplicates,
  M.uuidConflicts,
  M.processingFailed,
  M.enrichmentMisses,
  M.staleStateWrites,
] as const;

const FIVE_MINUTES = Duration.minutes(5);

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { stream, transform, compaction } = props;

    // SNS server-side encryption with a key CloudWatch may use (the AWS-managed SNS key cannot
    // be used by CloudWatch alarms).
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Firelake alarm topic encryption',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Alarms', {
      topicName: `${props.namePrefix}-alarms`,
      displayName: 'Firelake alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarms.email)
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarms.email));

    const ns = props.metricsNamespace;
    const emf = (metricName: string, statistic = 'Sum', dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: ns,
        metricName,
        dimensionsMap: { service: transformServiceName(props.namePrefix), ...dimensions },
        statistic,
        period: FIVE_MINUTES,
      });
    const fh = (metricName: string, statistic: string) =>
      stream.metric(metricName, { statistic, period: FIVE_MINUTES });

    const alarm = (
      id: string,
      description: string,
      alarmProps: Omit<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription'>,
    ) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `${props.namePrefix}-${id}`,
        alarmDescription: description,
        ...alarmProps,
      });
      a.addAlarmAction(new actions.SnsAction(this.topic));
      a.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(a);
      return a;
    };
    const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;

    // Firehose
    alarm(
      'delivery-data-freshness',
      'Oldest undelivered record is too old: check the transform (errors, duration, throttles) and S3 delivery errors in the stream log group.',
      {
        metric: fh('DeliveryToS3.DataFreshness', 'Maximum'),
        threshold: props.alarms.dataFreshnessSeconds,
        comparisonOperator: GT,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: notBreaching,
      },
    );
    alarm(
      'delivery-throttled-records',
      'Producers are throttled by the Firehose quota: producers retry, but raise the stream quota or pack events into fewer records.',
      {
        metric: fh('ThrottledRecords', 'Sum'),
        threshold: 0,
        comparisonOperator: GT,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      },
    );
    alarm(
      'delivery-partition-count-exceeded',
      'More active partitions than the stream allows: records go to errors/. Ask AWS to raise the active-partition quota.',
      {
        metric: fh('PartitionCountExceeded', 'Maximum'),
        threshold: 1,
        comparisonOperator: GTE,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      },
    );
    alarm(
      'transform-invocations-failing',
      'Firehose invocations of the transform fail (errors or timeouts): after the retries their records land in errors/processing-failed/. Check the transform log and DynamoDB.',
      {
        metric: fh('ExecuteProcessing.Success', 'Average'),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: notBreaching,
      },
    );
    alarm(
      'processing-failed-records',
      'The transform marked records ProcessingFailed (they could not even be quarantined): see errors/processing-failed/ and replay them.',
      {
        metric: emf(M.processingFailed),
        threshold: 0,
        comparisonOperator: GT,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      },
    );

    // Lambda
    for (const [name, fn, period] of [
      ['transform', transform, FIVE_MINUTES],
      ['compaction', compaction, Duration.hours(1)],
      ['manifest-check', props.manifestCheck, Duration.hours(1)],
    ] as const) {
      alarm(`${name}-errors`, `The ${name} Lambda failed: read its log group.`, {
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: GT,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      });
      alarm(`${name}-throttles`, `The ${name} Lambda is throttled: check reserved and account concurrency.`, {
        metric: fn.metricThrottles({ period, statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: GT,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      });
    }

    // DynamoDB
    for (const [tableId, table] of Object.entries(props.tables)) {
      const read = table.metric('ReadThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES });
      const write = table.metric('WriteThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES });
      alarm(
        `dynamodb-${tableId}-throttles`,
        `The ${tableId} table throttles: the transform retries, then Firehose retries the batch. Raise capacity or switch to on-demand.`,
        {
          metric: new cloudwatch.MathExpression({
            expression: 'r + w',
            usingMetrics: { r: read, w: write },
            period: FIVE_MINUTES,
            label: `${tableId} throttle events`,
          }),
          threshold: 0,
          comparisonOperator: GT,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingData: notBreaching,
        },
      );
    }

    // Compaction
    alarm(
      'compaction-dead-letters',
      'A scheduled compaction (or manifest check) failed after every retry: run it by hand (docs/operations.md, "Run compaction by hand"), then purge the queue.',
      {
        metric: props.compactionDeadLetters.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        threshold: 1,
        comparisonOperator: GTE,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      },
    );
    const manifestMissing = new cloudwatch.Metric({
      namespace: ns,
      metricName: MANIFEST_CHECK_METRICS.metric,
      dimensionsMap: { service: MANIFEST_CHECK_METRICS.service },
      statistic: 'Maximum',
      period: Duration.hours(1),
    });
    alarm(
      'compaction-manifest-missing',
      "Yesterday's curated manifest did not exist at the deadline: compaction did not finish. Check the compaction log, then run it by hand.",
      {
        metric: manifestMissing,
        threshold: 1,
        comparisonOperator: GTE,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      },
    );

    // Dashboard
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.namePrefix}-pipeline`,
      defaultInterval: Duration.hours(6),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    this.dashboard.addWidgets(
      graph('Firehose records', [
        fh('IncomingRecords', 'Sum'),
        fh('DeliveryToS3.Records', 'Sum'),
        fh('ThrottledRecords', 'Sum'),
      ]),
      graph('Firehose freshness (s)', [fh('DeliveryToS3.DataFreshness', 'Maximum')]),
      graph('Active partitions', [fh('PartitionCount', 'Maximum'), fh('PartitionCountExceeded', 'Maximum')]),
    );
    this.dashboard.addWidgets(
      graph(
        'Transform: records',
        TRANSFORM_METRIC_NAMES.map((m) => emf(m)),
        12,
      ),
      graph(
        'Transform: quarantined by reason',
        QUARANTINE_REASONS.map((reason) =>
          emf(M.quarantinedByReason, 'Sum', { [REASON_DIMENSION]: reason }).with({ label: reason }),
        ),
        12,
      ),
    );
    this.dashboard.addWidgets(
      graph('Transform Lambda', [
        transform.metricInvocations({ period: FIVE_MINUTES }),
        transform.metricErrors({ period: FIVE_MINUTES }),
        transform.metricThrottles({ period: FIVE_MINUTES }),
      ]),
      graph('Transform duration (ms)', [
        transform.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' }),
      ]),
      graph(
        'DynamoDB throttle events',
        Object.entries(props.tables).flatMap(([id, t]) => [
          t.metric('ReadThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES, label: `${id} read` }),
          t.metric('WriteThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES, label: `${id} write` }),
        ]),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Compaction',
        [
          compaction.metricDuration({ period: Duration.hours(1), statistic: 'Maximum' }),
          compaction.metricErrors({ period: Duration.hours(1) }),
        ],
        12,
      ),
      graph('Manifest missing at deadline', [manifestMissing], 12),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
  }
}
