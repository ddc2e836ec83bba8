import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PREFIX } from '../lake/layout.js';
import type { FirelakeConfig } from './config.js';

// The lake: one bucket with the prefixes of lake/layout.ts, and a bucket for its access logs.
// Lifecycle follows the data: staging and quarantine are working sets that expire, curated is
// the long-lived product and moves to a cheaper class once it is rarely read.

/** Where the stack's Athena workgroup writes query results (not part of the lake layout). */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

export interface LakeBucketProps {
  lake: FirelakeConfig['lake'];
  removalPolicy: RemovalPolicy;
}

const STORAGE_CLASS: Record<FirelakeConfig['lake']['curatedStorageClass'], s3.StorageClass> = {
  STANDARD_IA: s3.StorageClass.INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: s3.StorageClass.INTELLIGENT_TIERING,
  GLACIER_IR: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
};

export class LakeBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeBucketProps) {
    super(scope, id);
    const { lake, removalPolicy } = props;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Server access logs can only be delivered to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(lake.accessLogsExpirationDays) },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    this.acknowledgeSizeType();
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the lake; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Lake', {
      // SSE-S3: no per-request KMS charge at millions of objects a month; access is by IAM.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioning guards curated data against a bad delete; old versions do not pile up.
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        {
          id: 'expire-staging',
          prefix: PREFIX.staging,
          expiration: Duration.days(lake.stagingExpirationDays),
        },
        {
          id: 'expire-quarantine',
          prefix: PREFIX.quarantine,
          expiration: Duration.days(lake.quarantineExpirationDays),
        },
        {
          id: 'expire-errors',
          prefix: PREFIX.errors,
          expiration: Duration.days(lake.quarantineExpirationDays),
        },
        {
          id: 'expire-athena-results',
          prefix: ATHENA_RESULTS_PREFIX,
          expiration: Duration.days(30),
        },
        {
          id: 'curated-to-cheaper-class',
          prefix: PREFIX.curatedEvents,
          // Small objects cost more in IA than in Standard (128 KiB minimum charge).
          objectSizeGreaterThan: 128 * 1024,
          transitions: [
            {
              storageClass: STORAGE_CLASS[lake.curatedStorageClass],
              transitionAfter: Duration.days(lake.curatedTransitionDays),
            },
          ],
        },
        {
          id: 'old-versions-and-uploads',
          noncurrentVersionExpiration: Duration.days(30),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
  }

  private acknowledgeSizeType(): void {
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W9003',
      reason:
        'ObjectSizeGreaterThan is typed as a number by CDK and a string by CloudFormation; it is coerced.',
    });
  }
}
