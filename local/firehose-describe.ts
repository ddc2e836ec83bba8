import type { DeliveryStream } from './delivery-stream.js';

// DescribeDeliveryStream as Firehose shapes it (the API's DeliveryStreamDescription), for tools
// that check a stream before sending: a DirectPut stream, ACTIVE, with one extended S3
// destination carrying the prefixes, buffering hints, GZIP, the processors in the order the
// stream applies them (RecordDeAggregation, then the Lambda) and dynamic partitioning, from the
// same DeliveryStreamConfig the CDK stack deploys.

/** Firehose operations this endpoint answers; any other one is refused by name. */
export const SUPPORTED_OPERATIONS = [
  'PutRecord',
  'PutRecordBatch',
  'ListDeliveryStreams',
  'DescribeDeliveryStream',
] as const;

/** The rest of Firehose's API (2015-08-04): known, so refused as "not supported locally". */
export const UNSUPPORTED_OPERATIONS = new Set([
  'CreateDeliveryStream',
  'DeleteDeliveryStream',
  'UpdateDestination',
  'TagDeliveryStream',
  'UntagDeliveryStream',
  'ListTagsForDeliveryStream',
  'StartDeliveryStreamEncryption',
  'StopDeliveryStreamEncryption',
]);

export interface DescribeContext {
  accountId: string;
  /** The lake's location: `s3://bucket[/prefix]` or a folder. */
  lakeLocation?: string;
  createdAtMs: number;
}

export function describeDeliveryStream(stream: DeliveryStream, context: DescribeContext) {
  const { config } = stream;
  // A folder lake has no bucket: the name says so; an S3 lake's own prefix precedes Firehose's.
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(context.lakeLocation ?? '');
  const bucket = s3?.[1] ?? 'firelake-local-folder-lake';
  const keyPrefix = s3?.[2] ? `${s3[2].replace(/\/$/, '')}/` : '';
  const roleArn = `arn:aws:iam::${context.accountId}:role/firelake-firehose-local`;
  const buffering = {
    SizeInMBs: config.buffering.sizeMiB,
    IntervalInSeconds: config.buffering.intervalSeconds,
  };
  const common = {
    RoleARN: roleArn,
    BucketARN: `arn:aws:s3:::${bucket}`,
    Prefix: `${keyPrefix}${config.prefix}`,
    ErrorOutputPrefix: `${keyPrefix}${config.errorPrefix}`,
    BufferingHints: buffering,
    CompressionFormat: config.compression,
    EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
    CloudWatchLoggingOptions: { Enabled: false },
  };
  const created = context.createdAtMs / 1000;
  return {
    DeliveryStreamDescription: {
      DeliveryStreamName: stream.name,
      DeliveryStreamARN: stream.arn,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
      DeliveryStreamType: 'DirectPut',
      VersionId: '1',
      CreateTimestamp: created,
      LastUpdateTimestamp: created,
      Destinations: [
        {
          DestinationId: 'destinationId-000000000001',
          S3DestinationDescription: common,
          ExtendedS3DestinationDescription: {
            ...common,
            ProcessingConfiguration: {
              Enabled: true,
              Processors: [
                ...(config.deaggregation
                  ? [
                      {
                        Type: 'RecordDeAggregation',
                        Parameters: [
                          { ParameterName: 'SubRecordType', ParameterValue: config.deaggregation },
                        ],
                      },
                    ]
                  : []),
                {
                  Type: 'Lambda',
                  Parameters: [
                    { ParameterName: 'LambdaArn', ParameterValue: stream.lambdaArn },
                    { ParameterName: 'NumberOfRetries', ParameterValue: String(config.processor.retries) },
                    {
                      ParameterName: 'BufferSizeInMBs',
                      ParameterValue: String(config.processor.bufferSizeMiB),
                    },
                    {
                      ParameterName: 'BufferIntervalInSeconds',
                      ParameterValue: String(config.processor.bufferIntervalSeconds),
                    },
                  ],
                },
              ],
            },
            S3BackupMode: 'Disabled',
            DataFormatConversionConfiguration: { Enabled: false },
            DynamicPartitioningConfiguration: {
              Enabled: true,
              RetryOptions: { DurationInSeconds: config.dynamicPartitioningRetrySeconds },
            },
          },
        },
      ],
      HasMoreDestinations: false,
    },
  };
}
