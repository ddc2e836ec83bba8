import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { QUARANTINE_REASONS } from '../../events/types.js';
import { DEFAULT_CONFIG } from '../../infra/config.js';
import { curatedGlueColumns } from '../../infra/glue-catalog.js';
import { ATHENA_RESULTS_PREFIX } from '../../infra/lake-bucket.js';
import { duckdbArchitecture, ROOT } from '../../infra/lambda-common.js';
import { TRANSFORM_TABLE_ACTIONS } from '../../infra/state-tables.js';
import { AWS_DELIVERY } from '../../lake/delivery.js';
import {
  FIREHOSE_ERROR_PREFIX,
  FIREHOSE_PREFIX,
  PENDING_COMPACTION_PREFIX,
  PREFIX,
} from '../../lake/layout.js';
import { NEW_ACCOUNT_LAMBDA } from '../../lake/settings.js';
import { TABLES, type TableId } from '../../transform/tables.js';
import {
  actionsOf,
  defaultPolicyOf,
  identityStatements,
  logicalId,
  ofType,
  type Synthesized,
  synth,
  wildcardActions,
} from '../infra-synth.js';

// The default stack, synthesized once: what a data engineer gets from `npx cdk deploy`.

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Resource lists of a statement, flattened (a single resource or an array). */
const resourcesOf = (r: unknown): unknown[] => (Array.isArray(r) ? r : [r]);

describe('firehose delivery stream', () => {
  it('splits packed JSON records, then invokes the transform Lambda with the buffering and retries of AWS_DELIVERY', () => {
    s.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: Match.objectLike({
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            // Deaggregation comes before the transform (docs/firehose.md), so it sees one event per record.
            {
              Type: 'RecordDeAggregation',
              Parameters: [{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }],
            },
            {
              Type: 'Lambda',
              // In the order the L2 renders them.
              Parameters: Match.arrayWith([
                { ParameterName: 'LambdaArn', ParameterValue: getAtt(logicalId(s, s.stack.transform.fn)) },
                {
                  ParameterName: 'BufferIntervalInSeconds',
                  ParameterValue: String(AWS_DELIVERY.processor.bufferIntervalSeconds),
                },
                {
                  ParameterName: 'BufferSizeInMBs',
                  ParameterValue: String(AWS_DELIVERY.processor.bufferSizeMiB),
                },
                { ParameterName: 'NumberOfRetries', ParameterValue: String(AWS_DELIVERY.processor.retries) },
              ]),
            },
          ],
        },
      }),
    });
  });

  it('partitions dynamically with the prefixes of docs/design.md, gzip, and buffers Firehose allows', () => {
    s.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'firelake-events',
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: getAtt(logicalId(s, s.stack.lake.bucket)),
        Prefix: FIREHOSE_PREFIX,
        ErrorOutputPrefix: FIREHOSE_ERROR_PREFIX,
        CompressionFormat: 'GZIP',
        DynamicPartitioningConfiguration: {
          Enabled: true,
          RetryOptions: { DurationInSeconds: AWS_DELIVERY.dynamicPartitioningRetrySeconds },
        },
        BufferingHints: {
          SizeInMBs: AWS_DELIVERY.buffering.sizeMiB,
          IntervalInSeconds: AWS_DELIVERY.buffering.intervalSeconds,
        },
      }),
    });
    // The docs/design.md prefix, spelled out: a change to lake/layout.ts must be deliberate.
    expect(FIREHOSE_PREFIX).toBe(
      '!{partitionKeyFromLambda:dataset}/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/' +
        'day=!{partitionKeyFromLambda:day}/hour=!{partitionKeyFromLambda:hour}/minute=!{partitionKeyFromLambda:minute}/',
    );
    expect(AWS_DELIVERY.buffering.sizeMiB).toBeGreaterThanOrEqual(64);
    expect(AWS_DELIVERY.buffering.intervalSeconds).toBeGreaterThanOrEqual(60);
  });

  it('encrypts Direct PUT data server-side', () => {
    s.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
    });
  });

  it('lets Firehose write only under staging/, quarantine/ and errors/, and never delete', () => {
    const policy = logicalId(s, s.stack.delivery.policy);
    const statements = identityStatements(s).filter((x) => x.policy === policy);
    const objectWrites = statements.filter((x) => actionsOf(x.statement).includes('s3:PutObject'));
    expect(objectWrites).toHaveLength(1);
    const resources = JSON.stringify(objectWrites[0]!.statement.Resource);
    for (const prefix of [PREFIX.staging, PREFIX.quarantine, PREFIX.errors])
      expect(resources).toContain(`/${prefix}*`);
    expect(resources).not.toContain('curated');
    const all = statements.flatMap((x) => actionsOf(x.statement));
    expect(all).toContain('lambda:InvokeFunction');
    expect(all.filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    // The L2's default grants (bucket read/write/delete) must not reach the role by another policy.
    const role = logicalId(s, s.stack.delivery.role);
    const attached = ofType(s, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties!.Roles).includes(role),
    );
    expect(attached.map(([id]) => id)).toEqual([policy]);
  });
});

/**
 * A retained table's name: `firelake-<table>-` and the first 8 hex digits of the stack's id, so
 * that a deploy after `cdk destroy` (which keeps the tables) does not collide with them.
 */
const retainedName = (id: string) => ({
  'Fn::Join': [
    '-',
    [
      `firelake-${id}`,
      {
        'Fn::Select': [
          0,
          { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
        ],
      },
    ],
  ],
});

describe('dynamodb tables', () => {
  it.each(Object.keys(TABLES) as TableId[])(
    '%s has exactly the keys of the shared TABLES definition',
    (id) => {
      const def = TABLES[id];
      const keys = [def.partitionKey, ...('sortKey' in def ? [def.sortKey] : [])];
      s.template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: retainedName(id),
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    },
  );

  it('expires dedup markers by the TTL attribute the transform writes', () => {
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: retainedName('dedup'),
      TimeToLiveSpecification: { AttributeName: TABLES.dedup.ttlAttribute, Enabled: true },
    });
  });

  it('keeps tables and the lake when the stack is deleted', () => {
    for (const [, table] of ofType(s, 'AWS::DynamoDB::Table')) expect(table.DeletionPolicy).toBe('Retain');
    // The bucket's name is CloudFormation's own: a redeploy after a destroy makes a new one.
    expect(s.resources[logicalId(s, s.stack.lake.bucket)]!.Properties!.BucketName).toBeUndefined();
    expect(s.resources[logicalId(s, s.stack.lake.bucket)]!.DeletionPolicy).toBe('Retain');
  });
});

describe('transform lambda', () => {
  it('runs transform/handler.ts on Node.js 24, arm64, with table names and settings in its environment', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'firelake-transform',
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          [TABLES.dedup.envVar]: { Ref: logicalId(s, s.stack.tables.tables.dedup) },
          [TABLES.users.envVar]: { Ref: logicalId(s, s.stack.tables.tables.users) },
          [TABLES.subscriptions.envVar]: { Ref: logicalId(s, s.stack.tables.tables.subscriptions) },
          DEDUP_TTL_HOURS: String(DEFAULT_CONFIG.transform.dedupTtlHours),
          LATE_WINDOW_DAYS: String(DEFAULT_CONFIG.transform.lateWindowDays),
          POWERTOOLS_METRICS_NAMESPACE: DEFAULT_CONFIG.metricsNamespace,
          POWERTOOLS_SERVICE_NAME: 'firelake-transform',
        }),
      },
    });
  });

  it('keeps its logs for the configured retention', () => {
    s.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/firelake-transform',
      RetentionInDays: DEFAULT_CONFIG.transform.logRetentionDays,
    });
  });

  it('may call on each table exactly the DynamoDB operations granted for it, nothing more', () => {
    const policy = defaultPolicyOf(s, s.stack.transform.fn.role!);
    const statements = identityStatements(s).filter((x) => x.policy === policy);
    for (const id of Object.keys(TABLES) as TableId[]) {
      const arn = getAtt(logicalId(s, s.stack.tables.tables[id]));
      const granted = statements
        .filter((x) =>
          resourcesOf(x.statement.Resource).some((r) => JSON.stringify(r) === JSON.stringify(arn)),
        )
        .flatMap((x) => actionsOf(x.statement));
      expect(granted.sort()).toEqual([...TRANSFORM_TABLE_ACTIONS[id]].sort());
    }
    const dynamo = statements.flatMap((x) => actionsOf(x.statement)).filter((a) => a.startsWith('dynamodb:'));
    expect(new Set(dynamo)).toEqual(new Set(Object.values(TRANSFORM_TABLE_ACTIONS).flat()));
  });

  it('is granted every DynamoDB command the transform code sends, and no other', () => {
    // The commands imported from the DynamoDB client anywhere in transform/ (type imports aside).
    const sent = new Set<string>();
    for (const file of readdirSync(join(ROOT, 'transform')).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(ROOT, 'transform', file), 'utf8');
      for (const m of text.matchAll(/import\s*{([^}]*)}\s*from\s*'@aws-sdk\/client-dynamodb'/g)) {
        for (const name of m[1]!.split(',').map((n) => n.trim())) {
          if (/^[A-Z]\w*Command$/.test(name)) sent.add(`dynamodb:${name.replace(/Command$/, '')}`);
        }
      }
    }
    expect(sent.size).toBeGreaterThan(0);
    expect(new Set(Object.values(TRANSFORM_TABLE_ACTIONS).flat())).toEqual(sent);
  });
});

describe('iam', () => {
  it('holds no wildcard action in any identity policy', () => {
    expect(identityStatements(s).length).toBeGreaterThan(5);
    expect(wildcardActions(s)).toEqual([]);
  });

  it('gives no function or role the right to delete staging or quarantine data', () => {
    const deletes = identityStatements(s).filter((x) =>
      actionsOf(x.statement).some((a) => a.startsWith('s3:Delete')),
    );
    for (const x of deletes) {
      const text = JSON.stringify(x.statement.Resource);
      expect(text).not.toMatch(/staging|quarantine|errors/);
      expect(text).toContain('/curated/*');
    }
  });
});

describe('compaction and replays', () => {
  it('lets compaction list and clear the days a replay left to the nightly run, and nothing else of replays/', () => {
    const policy = defaultPolicyOf(s, s.stack.compaction.fn.role!);
    const statements = identityStatements(s).filter((x) => x.policy === policy);
    const text = (x: { statement: { Resource?: unknown } }) => JSON.stringify(x.statement.Resource);
    const on = (prefix: string) =>
      statements.filter(
        (x) => text(x).includes(`/${prefix}*`) || JSON.stringify(x.statement).includes(`"${prefix}*"`),
      );
    const actions = on(PENDING_COMPACTION_PREFIX).flatMap((x) => actionsOf(x.statement));
    expect(actions).toEqual(expect.arrayContaining(['s3:ListBucket', 's3:DeleteObject']));
    expect(statements.some((x) => JSON.stringify(x.statement).includes('replays/runs'))).toBe(false);
  });
});

describe('the commit check', () => {
  it("reads the curated table's metadata, and writes nothing", () => {
    const policy = defaultPolicyOf(s, s.stack.compaction.check.role!);
    const statements = identityStatements(s).filter((x) => x.policy === policy);
    const onMetadata = statements.filter((x) =>
      JSON.stringify(x.statement).includes(`${PREFIX.curatedMetadata}*`),
    );
    expect(onMetadata.flatMap((x) => actionsOf(x.statement))).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:ListBucket']),
    );
    const s3Actions = statements.flatMap((x) => actionsOf(x.statement)).filter((a) => a.startsWith('s3:'));
    expect(s3Actions.filter((a) => /Put|Delete/.test(a))).toEqual([]);
  });
});

describe('lake bucket', () => {
  it('is encrypted, private, TLS-only and logs access to its own bucket', () => {
    const logs = logicalId(s, s.stack.lake.accessLogs);
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: logs }, LogFilePrefix: 'lake/' },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(s, s.stack.lake.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires staging and quarantine and moves curated to a cheaper class after 90 days', () => {
    const rules = (
      s.resources[logicalId(s, s.stack.lake.bucket)]!.Properties!.LifecycleConfiguration as {
        Rules: {
          Prefix?: string;
          ExpirationInDays?: number;
          Transitions?: { StorageClass: string; TransitionInDays: number }[];
        }[];
      }
    ).Rules;
    const byPrefix = (p: string) => rules.find((r) => r.Prefix === p);
    expect(byPrefix(PREFIX.staging)?.ExpirationInDays).toBe(DEFAULT_CONFIG.lake.stagingExpirationDays);
    expect(byPrefix(PREFIX.quarantine)?.ExpirationInDays).toBe(DEFAULT_CONFIG.lake.quarantineExpirationDays);
    expect(byPrefix(PREFIX.errors)?.ExpirationInDays).toBe(DEFAULT_CONFIG.lake.quarantineExpirationDays);
    expect(byPrefix(PREFIX.curatedEvents)?.ExpirationInDays).toBeUndefined();
    expect(byPrefix(PREFIX.curatedEvents)?.Transitions).toEqual([
      { StorageClass: 'STANDARD_IA', TransitionInDays: 90 },
    ]);
  });
});

describe('compaction', () => {
  it("runs compaction/handler.ts with a new account's 3,008 MB, 10 GB of /tmp for 15 minutes on the DuckDB binding architecture, reserving no concurrency", () => {
    const arch = duckdbArchitecture().architecture.name;
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'firelake-compaction',
      Handler: 'index.handler',
      MemorySize: 3008,
      EphemeralStorage: { Size: 10240 },
      Timeout: 900,
      Architectures: [arch],
      ReservedConcurrentExecutions: Match.absent(),
      Environment: {
        Variables: Match.objectLike({ LAKE_BUCKET: { Ref: logicalId(s, s.stack.lake.bucket) } }),
      },
    });
  });

  it("reserves concurrency for no function, and asks no more memory than a new account's cap", () => {
    const functions = ofType(s, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(4);
    for (const [id, fn] of functions) {
      expect(fn.Properties!.ReservedConcurrentExecutions, id).toBeUndefined();
      expect(fn.Properties!.MemorySize as number, id).toBeLessThanOrEqual(NEW_ACCOUNT_LAMBDA.memoryMiB);
    }
  });

  it('has a nightly UTC schedule that starts the fan-out state machine with the scheduled time, retries and dead-letters', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: Match.objectLike({
        Arn: { Ref: logicalId(s, s.stack.compactionFanOut.stateMachine) },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: DEFAULT_CONFIG.compaction.retryAttempts }),
        DeadLetterConfig: { Arn: getAtt(logicalId(s, s.stack.compaction.deadLetterQueue)) },
      }),
    });
  });

  it("checks yesterday's manifest at the deadline with its own schedule", () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      Target: Match.objectLike({ Arn: getAtt(logicalId(s, s.stack.compaction.check)) }),
    });
  });
});

describe('glue catalog', () => {
  it('describes curated events as an Iceberg table with the schema columns, language included', () => {
    s.template.hasResourceProperties('AWS::Glue::Table', {
      OpenTableFormatInput: { IcebergInput: { MetadataOperation: 'CREATE', Version: '2' } },
      TableInput: Match.objectLike({
        Name: 'curated_events',
        StorageDescriptor: Match.objectLike({
          Columns: curatedGlueColumns().map((c) => ({ Name: c.name, Type: c.type })),
        }),
      }),
    });
    const columns = curatedGlueColumns().map((c) => c.name);
    expect(columns).toContain('event_specifics');
    // A data column of the Iceberg table (partitioned by its identity), not a Hive partition key.
    expect(columns).toContain('language');
    // What the catalog does not name, as JSON text: json_extract_scalar(extras, '$.xp') in Athena.
    // Then the origin of a replayed record, null for live events.
    expect(curatedGlueColumns().slice(-2)).toEqual([
      { name: 'extras', type: 'string' },
      { name: 'replayed_from', type: 'string' },
    ]);
  });

  it('describes staging JSON by minute with projection, so new minutes need no crawler', () => {
    s.template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'staging_events',
        PartitionKeys: ['year', 'month', 'day', 'hour', 'minute'].map((name) => ({
          Name: name,
          Type: 'string',
        })),
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.minute.range': '0,59',
          // 24: the late shelf after each day's minutes.
          'projection.hour.range': '0,24',
          'storage.location.template': {
            'Fn::Join': [
              '',
              Match.arrayWith([Match.stringLikeRegexp('/staging/year=\\$\\{year\\}/month=\\$\\{month\\}')]),
            ],
          },
        }),
        StorageDescriptor: Match.objectLike({
          SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
        }),
      }),
    });
  });
});

describe('athena', () => {
  it('has a workgroup that writes encrypted results to an expiring prefix of the lake', () => {
    s.template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'firelake',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', Match.arrayWith([`/${ATHENA_RESULTS_PREFIX}`])] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      }),
    });
    const rules = (
      s.resources[logicalId(s, s.stack.lake.bucket)]!.Properties!.LifecycleConfiguration as {
        Rules: { Prefix?: string; ExpirationInDays?: number }[];
      }
    ).Rules;
    expect(rules.find((r) => r.Prefix === ATHENA_RESULTS_PREFIX)?.ExpirationInDays).toBe(30);
  });
});

describe('alarms and dashboard', () => {
  const alarmOn = (metricName: string) =>
    ofType(s, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      JSON.stringify(a.Properties).includes(`"${metricName}"`),
    );

  it.each([
    'DeliveryToS3.DataFreshness',
    'ThrottledRecords',
    'PartitionCountExceeded',
    'ExecuteProcessing.Success',
    'ProcessingFailed',
    'Errors',
    'Throttles',
    'ReadThrottleEvents',
    'WriteThrottleEvents',
    'ApproximateNumberOfMessagesVisible',
    'ManifestMissing',
  ])('alarms on %s and notifies the topic', (metricName) => {
    const alarms = alarmOn(metricName);
    expect(alarms.length).toBeGreaterThan(0);
    for (const [, a] of alarms) {
      expect(a.Properties!.AlarmActions).toEqual([{ Ref: logicalId(s, s.stack.monitoring.topic) }]);
    }
  });

  it('has a dashboard with the transform metrics, by quarantine reason', () => {
    const body = JSON.stringify(ofType(s, 'AWS::CloudWatch::Dashboard')[0]![1].Properties!.DashboardBody);
    for (const name of ['Staged', 'Quarantined', 'Duplicates', 'QuarantinedByReason'])
      expect(body).toContain(name);
    for (const reason of QUARANTINE_REASONS) expect(body).toContain(reason);
  });

  it('sends no e-mail unless asked', () => {
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('defaults', () => {
  it('has no ingest API and no Kinesis stream', () => {
    s.template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    s.template.resourceCountIs('AWS::Kinesis::Stream', 0);
  });

  it('prints the stream, the bucket and the generator command', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.DeliveryStreamName?.Value).toBe('firelake-events');
    expect(outputs.LakeBucketName?.Value).toEqual({ Ref: logicalId(s, s.stack.lake.bucket) });
    expect(JSON.stringify(outputs.GenerateCommand?.Value)).toContain(
      'npx firelake generate --stream firelake-events',
    );
  });

  it('passes the cdk-nag AWS Solutions checks with every exception acknowledged', () => {
    expect(s.nagErrors()).toEqual([]);
  });
});
