import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { envelopeSchema } from '../../events/schemas.js';
import { ConfigError, configFromContext, DEFAULT_CONFIG, resolveConfig } from '../../infra/config.js';
import { acknowledgeRuntime } from '../../infra/lambda-common.js';
import { FirelakeStack } from '../../infra/stack.js';
import { deliveryStreamConfig, FIREHOSE_LIMITS, LOCAL_DELIVERY } from '../../lake/delivery.js';
import { TABLES } from '../../transform/tables.js';
import {
  identityStatements,
  logicalId,
  nagErrors,
  ofType,
  type Synthesized,
  synth,
  wildcardActions,
} from '../infra-synth.js';

// Each option a team tunes changes the template as it should; each configuration is
// synthesized once.

const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('ingest API with an API key (firelake:api=true)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({ api: { enabled: true, rateLimit: 200, burstLimit: 400, dailyQuota: 50_000_000 } });
  });

  it('puts one event with Firehose PutRecord and a batch with PutRecordBatch, no Lambda in the path', () => {
    const methods = ofType(s, 'AWS::ApiGateway::Method');
    expect(methods).toHaveLength(2);
    const uris = methods.map(([, m]) => JSON.stringify((m.Properties!.Integration as { Uri: unknown }).Uri));
    expect(uris.some((u) => u.includes(':firehose:action/PutRecord"'))).toBe(true);
    expect(uris.some((u) => u.includes(':firehose:action/PutRecordBatch"'))).toBe(true);
    for (const [, m] of methods) {
      expect(m.Properties).toMatchObject({
        HttpMethod: 'POST',
        ApiKeyRequired: true,
        Integration: { Type: 'AWS', PassthroughBehavior: 'NEVER' },
      });
    }
    const templates = JSON.stringify(
      methods.map(([, m]) => (m.Properties!.Integration as { RequestTemplates: unknown }).RequestTemplates),
    );
    expect(templates).toContain('"DeliveryStreamName\\": \\"firelake-events\\"');
    expect(templates).toContain('$util.base64Encode');
  });

  it('validates bodies against the envelope schema of events/schemas.ts, batches up to the Firehose limit', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    s.template.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'Event',
      Schema: Match.objectLike({
        $schema: 'http://json-schema.org/draft-04/schema#',
        required: [...envelopeSchema.required],
        properties: Match.objectLike({
          event_name: { type: 'string', pattern: envelopeSchema.properties.event_name.pattern },
        }),
      }),
    });
    s.template.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'EventBatch',
      Schema: Match.objectLike({ type: 'array', minItems: 1, maxItems: FIREHOSE_LIMITS.maxRecordsPerBatch }),
    });
    for (const [, m] of ofType(s, 'AWS::ApiGateway::Method')) {
      expect(m.Properties!.RequestValidatorId).toBeDefined();
    }
  });

  it('throttles the stage and the usage plan, and writes access logs', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400, LoggingLevel: 'ERROR' }),
      ]),
    });
    s.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 200, BurstLimit: 400 },
      Quota: { Limit: 50_000_000, Period: 'DAY' },
    });
    s.template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
  });

  it('lets API Gateway put records on this stream only', () => {
    const puts = identityStatements(s).filter((x) =>
      JSON.stringify(x.statement.Action).includes('firehose:Put'),
    );
    expect(puts).toHaveLength(1);
    expect(puts[0]!.statement.Resource).toEqual(getAtt(logicalId(s, s.stack.delivery.stream)));
  });

  it('outputs the API URL and how to read the key', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, unknown>;
    expect(outputs.IngestApiUrl).toBeDefined();
    expect(JSON.stringify(outputs.IngestApiKeyCommand)).toContain('aws apigateway get-api-key');
  });

  it('passes cdk-nag with every exception acknowledged', () => {
    expect(s.nagErrors()).toEqual([]);
  });
});

describe('Kinesis source with an IAM-authorised API (firelake:source=kinesis, apiAuth=iam)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({
      delivery: { source: 'kinesis', kinesisRetentionHours: 48 },
      api: { enabled: true, auth: 'iam' },
    });
  });

  it('puts an on-demand, encrypted Kinesis Data Stream in front of Firehose', () => {
    s.template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      RetentionPeriodHours: 48,
    });
    s.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: {
        KinesisStreamARN: getAtt(logicalId(s, s.stack.delivery.sourceStream!)),
      },
      DeliveryStreamEncryptionConfigurationInput: Match.absent(),
    });
  });

  it('writes API events to Kinesis with the user uuid as partition key, signed with IAM', () => {
    const methods = ofType(s, 'AWS::ApiGateway::Method');
    for (const [, m] of methods) {
      expect(m.Properties).toMatchObject({ AuthorizationType: 'AWS_IAM', ApiKeyRequired: false });
    }
    const text = JSON.stringify(methods.map(([, m]) => m.Properties!.Integration));
    expect(text).toContain(':kinesis:action/PutRecord"');
    expect(text).toContain(':kinesis:action/PutRecords"');
    expect(text).toContain('event_specifics.user_uuid');
    expect(text).toContain('PartitionKey');
    s.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
  });

  it('holds no wildcard action in any identity policy, API and Kinesis roles included', () => {
    expect(wildcardActions(s)).toEqual([]);
  });

  it('outputs the Kinesis stream and no Firehose generator command', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, unknown>;
    expect(outputs.KinesisStreamName).toBeDefined();
    expect(outputs.GenerateCommand).toBeUndefined();
  });

  it('passes cdk-nag with every exception acknowledged', () => {
    expect(s.nagErrors()).toEqual([]);
  });
});

describe('provisioned tables, destroy on delete, alarm e-mail, tuned transform and schedule', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({
      namePrefix: 'lake-test',
      removalPolicy: 'destroy',
      tables: {
        billing: {
          mode: 'provisioned',
          minRead: 10,
          maxRead: 200,
          minWrite: 20,
          maxWrite: 400,
          targetUtilization: 65,
        },
        pointInTimeRecovery: false,
      },
      transform: { reservedConcurrency: 40, memoryMiB: 2048, dedupTtlHours: 72 },
      delivery: { processorRetries: 5, processorBufferIntervalSeconds: 30 },
      compaction: {
        time: '01:15',
        manifestDeadline: '04:45',
        reservedConcurrency: 1,
        maxConcurrency: 8,
        memoryMiB: 10240,
      },
      lake: {
        stagingExpirationDays: 14,
        quarantineExpirationDays: 30,
        curatedStorageClass: 'INTELLIGENT_TIERING',
      },
      alarms: { email: 'data-oncall@example.com' },
    });
  });

  it('provisions each table with autoscaling of reads and writes', () => {
    for (const id of Object.keys(TABLES)) {
      s.template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: `lake-test-${id}`,
        ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 20 },
        BillingMode: Match.absent(),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      });
    }
    s.template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 6);
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'dynamodb:table:WriteCapacityUnits',
      MinCapacity: 20,
      MaxCapacity: 400,
    });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 65 }),
    });
  });

  it('deletes the lake and the tables with the stack', () => {
    for (const [, t] of ofType(s, 'AWS::DynamoDB::Table')) expect(t.DeletionPolicy).toBe('Delete');
    expect(s.resources[logicalId(s, s.stack.lake.bucket)]!.DeletionPolicy).toBe('Delete');
    s.template.resourcePropertiesCountIs('Custom::S3AutoDeleteObjects', {}, 2);
  });

  it('caps the transform concurrency and passes its settings', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lake-test-transform',
      ReservedConcurrentExecutions: 40,
      MemorySize: 2048,
      Environment: { Variables: Match.objectLike({ DEDUP_TTL_HOURS: '72' }) },
    });
  });

  it('deploys the stream deliveryStreamConfig derives, as the local runtime runs it', () => {
    const stream = deliveryStreamConfig(
      resolveConfig({ delivery: { processorRetries: 5, processorBufferIntervalSeconds: 30 } }).delivery,
      {
        runtime: 'aws',
        namePrefix: 'lake-test',
      },
    );
    expect(stream.processor).toMatchObject({ retries: 5, bufferIntervalSeconds: 30 });
    s.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: stream.streamName,
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: stream.prefix,
        ErrorOutputPrefix: stream.errorPrefix,
        ProcessingConfiguration: Match.objectLike({
          Processors: Match.arrayWith([
            Match.objectLike({
              Type: 'Lambda',
              Parameters: Match.arrayWith([
                { ParameterName: 'BufferIntervalInSeconds', ParameterValue: '30' },
                { ParameterName: 'NumberOfRetries', ParameterValue: '5' },
              ]),
            }),
          ]),
        }),
      }),
    });
    // Locally the same retries, with local buffers.
    const local = deliveryStreamConfig(resolveConfig({ delivery: { processorRetries: 5 } }).delivery, {
      runtime: 'local',
    });
    expect(local.processor.retries).toBe(5);
    expect(local.buffering).toEqual(LOCAL_DELIVERY.buffering);
  });

  it("names the transform's service after the prefix, in its environment and in the alarms' dimension", () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lake-test-transform',
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'lake-test-transform' }) },
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProcessingFailed',
      Dimensions: [{ Name: 'service', Value: 'lake-test-transform' }],
    });
  });

  it('reserves concurrency for compaction, caps the fan-out and raises its memory when configured', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lake-test-compaction',
      ReservedConcurrentExecutions: 1,
      MemorySize: 10240,
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lake-test-compaction-unit',
      MemorySize: 10240,
    });
    const [machine] = ofType(s, 'AWS::StepFunctions::StateMachine');
    expect(JSON.stringify(machine![1].Properties!.DefinitionString)).toContain('\\"MaxConcurrency\\":8');
  });

  it('keeps plain table names when the tables go with the stack', () => {
    for (const id of Object.keys(TABLES)) {
      s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: `lake-test-${id}` });
    }
  });

  it('runs compaction and the manifest check at the configured UTC times', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 1 * * ? *)',
      Target: Match.objectLike({ Arn: { Ref: logicalId(s, s.stack.compactionFanOut.stateMachine) } }),
    });
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(45 4 * * ? *)',
      Target: Match.objectLike({ Arn: getAtt(logicalId(s, s.stack.compaction.check)) }),
    });
  });

  it('applies the lake retention settings', () => {
    const rules = JSON.stringify(
      s.resources[logicalId(s, s.stack.lake.bucket)]!.Properties!.LifecycleConfiguration,
    );
    expect(rules).toContain('"ExpirationInDays":14,"Id":"expire-staging"');
    expect(rules).toContain('"ExpirationInDays":30,"Id":"expire-quarantine"');
    expect(rules).toContain('"StorageClass":"INTELLIGENT_TIERING"');
  });

  it('subscribes the e-mail address to the alarm topic', () => {
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'data-oncall@example.com',
      TopicArn: { Ref: logicalId(s, s.stack.monitoring.topic) },
    });
  });

  it('passes cdk-nag with every exception acknowledged', () => {
    expect(s.nagErrors()).toEqual([]);
  });
});

describe('cdk-nag check', () => {
  it('reports a finding nobody acknowledged, and not one acknowledged with a reason', () => {
    const stack = new Stack(new App(), 'Nag');
    const fn = (id: string) =>
      new LambdaFunction(stack, id, {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromInline('exports.handler = async () => {}'),
      });
    fn('Unacknowledged');
    acknowledgeRuntime(fn('Acknowledged'));
    const errors = nagErrors(stack);
    expect(errors.filter((e) => e.startsWith('AwsSolutions-L1 at Nag/Unacknowledged/'))).toHaveLength(1);
    expect(errors.filter((e) => e.startsWith('AwsSolutions-L1 at Nag/Acknowledged/'))).toEqual([]);
  });
});

describe('configuration', () => {
  it('starts from defaults that pass its own checks', () => {
    expect(resolveConfig()).toEqual(DEFAULT_CONFIG);
  });

  it.each([
    [{ delivery: { bufferSizeMiB: 32 } }, /delivery.bufferSizeMiB = 32: expected 64..128/],
    [{ delivery: { bufferIntervalSeconds: 30 } }, /delivery.bufferIntervalSeconds = 30/],
    [{ compaction: { time: '25:00' } }, /compaction.time "25:00": expected HH:MM/],
    [
      { lake: { stagingExpirationDays: 5 } },
      /stagingExpirationDays = 5 must exceed compaction.lateWindowDays/,
    ],
    [{ transform: { lateWindowDays: 10 } }, /must not exceed compaction.lateWindowDays = 7/],
    [{ transform: { logRetentionDays: 10 } }, /transform.logRetentionDays = 10: one of/],
    [{ namePrefix: 'Fire Lake' }, /namePrefix "Fire Lake"/],
    [{ alarms: { email: 'nobody' } }, /alarms.email "nobody" is not an e-mail address/],
  ] as const)('rejects %j naming the setting', (override, message) => {
    expect(() => resolveConfig(override as never)).toThrow(ConfigError);
    expect(() => resolveConfig(override as never)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() => resolveConfig({ compaction: { time: 'x', manifestDeadline: 'y' } })).toThrow(
      /compaction.time "x".*compaction.manifestDeadline "y"/,
    );
  });

  it('reads the common settings from CDK context strings (-c firelake:key=value)', () => {
    const context: Record<string, string> = {
      'firelake:namePrefix': 'acme-events',
      'firelake:api': 'true',
      'firelake:apiAuth': 'iam',
      'firelake:source': 'kinesis',
      'firelake:tableBilling': 'provisioned',
      'firelake:tableMaxWrite': '900',
      'firelake:transformReservedConcurrency': '25',
      'firelake:compactionTime': '03:05',
      'firelake:compactionMemoryMiB': '10240',
      'firelake:compactionReservedConcurrency': '1',
      'firelake:compactionMaxConcurrency': '8',
      'firelake:alarmEmail': 'ops@example.com',
    };
    const config = resolveConfig(configFromContext((key) => context[key]));
    expect(config.namePrefix).toBe('acme-events');
    expect(config.api).toMatchObject({ enabled: true, auth: 'iam' });
    expect(config.delivery.source).toBe('kinesis');
    expect(config.tables.billing).toMatchObject({ mode: 'provisioned', maxWrite: 900, minWrite: 5 });
    expect(config.transform.reservedConcurrency).toBe(25);
    expect(config.compaction.time).toBe('03:05');
    expect(config.compaction).toMatchObject({ memoryMiB: 10240, reservedConcurrency: 1, maxConcurrency: 8 });
    expect(config.alarms.email).toBe('ops@example.com');
  });

  it('rejects a context value of the wrong kind', () => {
    expect(() => configFromContext((key) => (key === 'firelake:api' ? 'yes' : undefined))).toThrow(
      /firelake:api = "yes": expected true or false/,
    );
    expect(() => configFromContext((key) => (key === 'firelake:tableBilling' ? 'cheap' : undefined))).toThrow(
      /expected on-demand or provisioned/,
    );
  });

  it('fails the synth of a stack with a bad setting', () => {
    expect(() => new FirelakeStack(new App(), 'Bad', { config: { compaction: { memoryMiB: 64 } } })).toThrow(
      /compaction.memoryMiB = 64/,
    );
  });
});
