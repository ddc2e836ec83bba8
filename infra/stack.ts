import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Compaction } from './compaction.js';
import { CompactionFanOut } from './compaction-fanout.js';
import { type DeepPartial, type FirelakeConfig, resolveConfig } from './config.js';
import { EventDeliveryStream } from './delivery-stream.js';
import { GlueCatalog } from './glue-catalog.js';
import { IngestApi } from './ingest-api.js';
import { LakeBucket } from './lake-bucket.js';
import { Monitoring } from './monitoring.js';
import { StateTables } from './state-tables.js';
import { TransformFunction } from './transform-function.js';

// The whole pipeline as one stack: lake bucket, DynamoDB tables, transform Lambda, Firehose
// (optionally behind Kinesis and/or an HTTP API), nightly compaction, Glue catalog, alarms.

export interface FirelakeStackProps extends StackProps {
  /** Overrides of DEFAULT_CONFIG (infra/config.ts); anything not given keeps its default. */
  config?: DeepPartial<FirelakeConfig>;
}

export class FirelakeStack extends Stack {
  readonly config: FirelakeConfig;
  readonly lake: LakeBucket;
  readonly tables: StateTables;
  readonly transform: TransformFunction;
  readonly delivery: EventDeliveryStream;
  readonly compaction: Compaction;
  readonly compactionFanOut: CompactionFanOut;
  readonly catalog: GlueCatalog;
  readonly monitoring: Monitoring;
  readonly api?: IngestApi;

  constructor(scope: Construct, id: string, props: FirelakeStackProps = {}) {
    super(scope, id, {
      description: 'Firelake: events -> Firehose -> transform (DynamoDB dedup/state) -> S3 lake -> Parquet',
      ...props,
    });
    // Access logs by bucket policy (not ACLs), whatever feature flags the enclosing app sets:
    // the lake's buckets enforce bucket-owner object ownership, which rules ACLs out.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const config = resolveConfig(props.config);
    this.config = config;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const p = config.namePrefix;

    this.lake = new LakeBucket(this, 'Lake', { lake: config.lake, removalPolicy });
    this.tables = new StateTables(this, 'Tables', { namePrefix: p, tables: config.tables, removalPolicy });
    this.transform = new TransformFunction(this, 'Transform', {
      namePrefix: p,
      transform: config.transform,
      metricsNamespace: config.metricsNamespace,
      tables: this.tables,
    });
    this.delivery = new EventDeliveryStream(this, 'Delivery', {
      namePrefix: p,
      delivery: config.delivery,
      bucket: this.lake.bucket,
      transform: this.transform.fn,
    });
    // The nightly schedule starts the fan-out state machine; its failures join the compaction's
    // dead-letter queue and alarm.
    const fanOut = new CompactionFanOut(this, 'CompactionFanOut', {
      namePrefix: p,
      compaction: config.compaction,
      logRetentionDays: config.transform.logRetentionDays,
      bucket: this.lake.bucket,
    });
    this.compactionFanOut = fanOut;
    this.compaction = new Compaction(this, 'Compaction', {
      namePrefix: p,
      compaction: config.compaction,
      metricsNamespace: config.metricsNamespace,
      logRetentionDays: config.transform.logRetentionDays,
      bucket: this.lake.bucket,
      nightly: (dlq) => fanOut.scheduleTarget(dlq, config.compaction),
    });
    fanOut.reportFailuresTo(this.compaction.deadLetterQueue);
    this.catalog = new GlueCatalog(this, 'Catalog', {
      namePrefix: p,
      catalog: config.catalog,
      bucket: this.lake.bucket,
    });
    // Every function that commits the curated table commits it through Glue, so Athena reads what
    // compaction published; the plan only reads it.
    for (const fn of [this.compaction.fn, fanOut.unitFn, fanOut.commitFn])
      this.catalog.bindCuratedTable(fn, 'commit');
    this.catalog.bindCuratedTable(fanOut.planFn, 'read');
    if (config.api.enabled) {
      this.api = new IngestApi(this, 'Ingest', {
        namePrefix: p,
        api: config.api,
        stream: this.delivery.stream,
        streamName: this.delivery.streamName,
        sourceStream: this.delivery.sourceStream,
      });
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      namePrefix: p,
      alarms: config.alarms,
      metricsNamespace: config.metricsNamespace,
      stream: this.delivery.stream,
      transform: this.transform.fn,
      compaction: this.compaction.fn,
      manifestCheck: this.compaction.check,
      compactionDeadLetters: this.compaction.deadLetterQueue,
      tables: this.tables.tables,
    });

    // Outputs: what a person needs next, ready to paste.
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    out('DeliveryStreamName', this.delivery.streamName, 'Firehose delivery stream (PutRecordBatch)');
    out('LakeBucketName', this.lake.bucket.bucketName, 'The lake: staging/, quarantine/, errors/, curated/');
    out(
      'GlueDatabase',
      this.catalog.databaseName,
      'Glue database for Athena (tables curated_events, staging_events, quarantine)',
    );
    out('AthenaWorkgroup', this.catalog.workgroup.name, 'Athena workgroup with its result location set');
    if (!this.delivery.sourceStream) {
      // The generator puts to Firehose directly: only a Direct PUT stream accepts that.
      out(
        'GenerateCommand',
        `AWS_REGION=${this.region} npx firelake generate --stream ${this.delivery.streamName} --rate 1000000/h --duration 10m`,
        'Send simulated events to the stream (AWS credentials from your environment)',
      );
    }
    out(
      'CompactCommand',
      `npx firelake compact --lake s3://${this.lake.bucket.bucketName} --date YYYY-MM-DD`,
      'Compact one day by hand from your machine',
    );
    out(
      'CompactionFunctionName',
      this.compaction.fn.functionName,
      'Invoke with {"date": "YYYY-MM-DD"} to compact one day in AWS',
    );
    out(
      'CompactionStateMachineArn',
      fanOut.stateMachine.stateMachineArn,
      'Start with {"date": "YYYY-MM-DD"} to compact one day in AWS with fan-out (aws stepfunctions start-execution)',
    );
    out(
      'AlarmTopicArn',
      this.monitoring.topic.topicArn,
      'Alarm notifications (subscribe more endpoints here)',
    );
    out('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard of the pipeline');
    if (this.delivery.sourceStream) {
      out(
        'KinesisStreamName',
        this.delivery.sourceStream.streamName,
        'Producers write here (partition key: user uuid)',
      );
    }
    if (this.api) {
      out(
        'IngestApiUrl',
        `${this.api.url}events`,
        'POST one event here, or an array of up to 500 to .../events/batch',
      );
      if (this.api.apiKey) {
        out(
          'IngestApiKeyCommand',
          `aws apigateway get-api-key --api-key ${this.api.apiKey.keyId} --include-value --query value --output text`,
          'Prints the API key producers send as x-api-key',
        );
      }
    }
  }
}
