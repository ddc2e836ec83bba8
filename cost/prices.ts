// AWS list prices the cost calculator uses: one dated table, one region. To update, change a
// price and its `checked` date (and the source page if AWS moved it); `npm test` then shows
// which hand-worked figures in test/integration/cost.test.ts move. No free tier is applied anywhere.

export interface Price {
  /** US dollars per `unit`. */
  usd: number;
  unit: string;
  /** The AWS pricing page the figure comes from. */
  source: string;
}

export interface PriceTable {
  region: string;
  /**
   * When these figures were last compared with the source pages (YYYY-MM-DD). The current
   * figures are the list prices the README's first estimate used (late 2025, DynamoDB's
   * on-demand prices after the 2024-11-01 cut); compare them with the pages before relying on them.
   */
  checked: string;
  prices: Record<PriceId, Price>;
}

export type PriceId =
  | 'firehose.ingestGB'
  | 'firehose.partitionedGB'
  | 'firehose.partitionedObjects1k'
  | 'lambda.armGBSecond'
  | 'lambda.x86GBSecond'
  | 'lambda.requests1M'
  | 'lambda.ephemeralGBSecond'
  | 'dynamodb.onDemandWrite1M'
  | 'dynamodb.onDemandRead1M'
  | 'dynamodb.wcuHour'
  | 'dynamodb.rcuHour'
  | 'dynamodb.storageGBMonth'
  | 'dynamodb.pitrGBMonth'
  | 's3.standardGBMonth'
  | 's3.standardIaGBMonth'
  | 's3.put1k'
  | 's3.get1k'
  | 'cloudwatch.alarm'
  | 'cloudwatch.dashboard'
  | 'cloudwatch.metric'
  | 'cloudwatch.logsIngestGB'
  | 'kms.key'
  | 'kinesis.onDemandStreamHour'
  | 'kinesis.onDemandIngestGB'
  | 'kinesis.onDemandRetrieveGB'
  | 'apigateway.rest1M';

const FIREHOSE = 'https://aws.amazon.com/firehose/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const DDB_OD = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const DDB_PROV = 'https://aws.amazon.com/dynamodb/pricing/provisioned/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const CW = 'https://aws.amazon.com/cloudwatch/pricing/';

export const PRICES: PriceTable = {
  region: 'us-east-1',
  checked: '2025-11-30',
  prices: {
    // Ingestion is billed per record rounded up to 5 KB (5,120 bytes): first 500 TB/month tier.
    'firehose.ingestGB': { usd: 0.029, unit: 'GB ingested (5 KB steps)', source: FIREHOSE },
    'firehose.partitionedGB': { usd: 0.02, unit: 'GB delivered with dynamic partitioning', source: FIREHOSE },
    'firehose.partitionedObjects1k': { usd: 0.005, unit: '1,000 S3 objects delivered', source: FIREHOSE },
    'lambda.armGBSecond': { usd: 0.0000133334, unit: 'GB-second, arm64', source: LAMBDA },
    'lambda.x86GBSecond': { usd: 0.0000166667, unit: 'GB-second, x86_64', source: LAMBDA },
    'lambda.requests1M': { usd: 0.2, unit: 'million requests', source: LAMBDA },
    'lambda.ephemeralGBSecond': { usd: 0.0000000309, unit: 'GB-second of /tmp above 512 MB', source: LAMBDA },
    // The on-demand prices after AWS halved them on 2024-11-01.
    'dynamodb.onDemandWrite1M': { usd: 0.625, unit: 'million write request units', source: DDB_OD },
    'dynamodb.onDemandRead1M': { usd: 0.125, unit: 'million read request units', source: DDB_OD },
    'dynamodb.wcuHour': { usd: 0.00065, unit: 'WCU-hour', source: DDB_PROV },
    'dynamodb.rcuHour': { usd: 0.00013, unit: 'RCU-hour', source: DDB_PROV },
    'dynamodb.storageGBMonth': { usd: 0.25, unit: 'GB-month, Standard table class', source: DDB_OD },
    'dynamodb.pitrGBMonth': { usd: 0.2, unit: 'GB-month of continuous backup', source: DDB_OD },
    's3.standardGBMonth': { usd: 0.023, unit: 'GB-month, S3 Standard (first 50 TB)', source: S3 },
    's3.standardIaGBMonth': { usd: 0.0125, unit: 'GB-month, S3 Standard-IA', source: S3 },
    's3.put1k': { usd: 0.005, unit: '1,000 PUT/COPY/POST/LIST requests', source: S3 },
    's3.get1k': { usd: 0.0004, unit: '1,000 GET requests', source: S3 },
    'cloudwatch.alarm': { usd: 0.1, unit: 'standard-resolution alarm-month', source: CW },
    'cloudwatch.dashboard': { usd: 3, unit: 'dashboard-month', source: CW },
    'cloudwatch.metric': { usd: 0.3, unit: 'custom metric-month (first 10,000)', source: CW },
    'cloudwatch.logsIngestGB': { usd: 0.5, unit: 'GB of logs ingested', source: CW },
    'kms.key': { usd: 1, unit: 'customer managed key-month', source: 'https://aws.amazon.com/kms/pricing/' },
    'kinesis.onDemandStreamHour': {
      usd: 0.04,
      unit: 'on-demand stream-hour',
      source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    },
    'kinesis.onDemandIngestGB': {
      usd: 0.08,
      unit: 'GB written (records rounded up to 1 KB)',
      source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    },
    'kinesis.onDemandRetrieveGB': {
      usd: 0.04,
      unit: 'GB read',
      source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    },
    'apigateway.rest1M': {
      usd: 3.5,
      unit: 'million REST API requests (first 333M)',
      source: 'https://aws.amazon.com/api-gateway/pricing/',
    },
  },
};
