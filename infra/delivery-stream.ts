import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { deliveryStreamConfig } from '../lake/delivery.js';
import { PREFIX } from '../lake/layout.js';
import type { FirelakeConfig } from './config.js';
import { acknowledgePrefixGrants } from './nag.js';

// The delivery stream: Direct PUT (or a Kinesis Data Stream) -> transform Lambda -> S3 with
// dynamic partitioning on the keys the transform returns. Its name, prefixes, buffers and retries
// come from lake/delivery.ts deliveryStreamConfig, the function the local Firehose runs too.

export interface EventDeliveryStreamProps {
  namePrefix: string;
  delivery: FirelakeConfig['delivery'];
  bucket: s3.Bucket;
  transform: lambda.IFunction;
}

/** The prefixes Firehose writes to; it reads nothing else and deletes nothing. */
const WRITTEN_PREFIXES = [PREFIX.staging, PREFIX.quarantine, PREFIX.errors];

export class EventDeliveryStream extends Construct {
  readonly stream: firehose.DeliveryStream;
  readonly streamName: string;
  /** The Kinesis Data Stream in front of Firehose, when delivery.source is `kinesis`. */
  readonly sourceStream?: kinesis.Stream;
  readonly role: iam.Role;
  /** The destination role's only policy: what Firehose may do. */
  readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: EventDeliveryStreamProps) {
    super(scope, id);
    const { delivery, bucket } = props;
    const config = deliveryStreamConfig(delivery, { runtime: 'aws', namePrefix: props.namePrefix });
    this.streamName = config.streamName;

    if (delivery.source === 'kinesis') {
      this.sourceStream = new kinesis.Stream(this, 'Source', {
        streamName: `${this.streamName}-source`,
        streamMode: kinesis.StreamMode.ON_DEMAND,
        encryption: kinesis.StreamEncryption.MANAGED,
        retentionPeriod: Duration.hours(delivery.kinesisRetentionHours),
        removalPolicy: RemovalPolicy.DESTROY,
      });
    }

    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The destination role gets exactly what Firehose documents for S3 + Lambda processing.
    // The L2 would otherwise grant bucket read/write/delete (s3:GetObject*, s3:DeleteObject*, ...):
    // handing it an immutable view of the role drops those grants, the explicit ones below stay.
    this.role = new iam.Role(this, 'DestinationRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: 'Firehose: invoke the transform, write staging/quarantine/errors, log delivery errors',
    });
    const policy = new iam.Policy(this, 'DestinationPolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
          resources: WRITTEN_PREFIXES.map((p) => bucket.arnForObjects(`${p}*`)),
        }),
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
          resources: [props.transform.functionArn],
        }),
        new iam.PolicyStatement({
          actions: ['logs:PutLogEvents'],
          // The stream the L2 adds to this group (logGroupArn covers its streams).
          resources: [logGroup.logGroupArn],
        }),
      ],
    });
    policy.attachToRole(this.role);
    this.policy = policy;
    acknowledgePrefixGrants(
      policy,
      bucket,
      WRITTEN_PREFIXES,
      'Firehose writes objects it names itself (time and uuid in the key) under these prefixes only.',
    );

    this.stream = new firehose.DeliveryStream(this, 'Stream', {
      deliveryStreamName: this.streamName,
      source: this.sourceStream ? new firehose.KinesisStreamSource(this.sourceStream) : undefined,
      // Server-side encryption applies to Direct PUT; a Kinesis source is encrypted at the stream.
      encryption: this.sourceStream ? undefined : firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(bucket, {
        role: this.role.withoutPolicyUpdates(),
        dataOutputPrefix: config.prefix,
        errorOutputPrefix: config.errorPrefix,
        compression: firehose.Compression.GZIP,
        bufferingSize: Size.mebibytes(config.buffering.sizeMiB),
        bufferingInterval: Duration.seconds(config.buffering.intervalSeconds),
        dynamicPartitioning: {
          enabled: true,
          retryDuration: Duration.seconds(config.dynamicPartitioningRetrySeconds),
        },
        processors: [
          // Packed records (up to 500 JSON events each) are split before the transform, which
          // still sees one event per record; Firehose bills the record as it came in.
          ...(config.deaggregation === 'JSON' ? [firehose.RecordDeAggregationProcessor.json()] : []),
          new firehose.LambdaFunctionProcessor(props.transform, {
            bufferSize: Size.kibibytes(Math.round(config.processor.bufferSizeMiB * 1024)),
            bufferInterval: Duration.seconds(config.processor.bufferIntervalSeconds),
            retries: config.processor.retries,
          }),
        ],
        loggingConfig: new firehose.EnableLogging(logGroup),
      }),
    });
    if (this.sourceStream) {
      Validations.of(this.stream).acknowledge({
        id: 'AwsSolutions-KDF1',
        reason:
          'The Kinesis source stream is KMS-encrypted; Firehose SSE applies only to Direct PUT streams.',
      });
    }
    // The immutable role view does not order the stream after its policy: do it here, so the
    // first delivery never runs before Firehose may write.
    this.stream.node.addDependency(policy);
  }
}
