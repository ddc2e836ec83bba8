import { FirelakeError } from '../lake/errors.js';
import { DEFAULT_DEDUP_TTL_HOURS, SETTING_SPECS } from '../lake/settings.js';

// The settings that decide the bill, read from a synthesized CloudFormation template: what will
// actually be deployed, not what a config file says it will be. The calculator never reads
// FirelakeConfig directly, so a setting the stack ignores cannot make the estimate lie.

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON, read defensively.
type Props = Record<string, any>;
type Resource = { Type: string; Properties?: Props };
export type TemplateJson = { Resources: Record<string, Resource> };

export interface TableSettings {
  name: string;
  /** Logical id in the template. */
  id: string;
  billing: 'on-demand' | 'provisioned';
  pointInTimeRecovery: boolean;
  /** Provisioned only: autoscaling range and target (percent) per dimension. */
  read?: CapacityRange;
  write?: CapacityRange;
}

export interface CapacityRange {
  min: number;
  max: number;
  targetUtilization: number;
}

export interface FunctionSettings {
  name: string;
  memoryMiB: number;
  architecture: 'arm64' | 'x86_64';
  ephemeralStorageMiB: number;
}

export interface CostSettings {
  delivery: {
    source: 'direct-put' | 'kinesis';
    deaggregation: boolean;
    dynamicPartitioning: boolean;
    bufferSizeMiB: number;
    bufferIntervalSeconds: number;
    processorBufferSizeMiB: number;
    processorBufferIntervalSeconds: number;
  };
  /** By the table's role, from its name `<prefix>-<role>`. */
  tables: Record<'dedup' | 'users' | 'subscriptions', TableSettings>;
  /** TTL attribute on the dedup table and the transform's DEDUP_TTL_HOURS. */
  dedupTtlHours: number;
  transform: FunctionSettings;
  compaction: FunctionSettings;
  lake: {
    stagingExpirationDays: number;
    curatedTransitionDays: number;
    curatedStorageClass: string;
    /** Days a replaced or expired object version is kept (the lake bucket is versioned). */
    noncurrentDays: number;
  };
  alarms: number;
  dashboards: number;
  kmsKeys: number;
  api: boolean;
}

export class TemplateError extends FirelakeError {
  static override readonly code: string = 'COST_TEMPLATE_INVALID';
  override readonly name = 'TemplateError';
}

/** Reads the billing-relevant settings; fails naming what the template lacks. */
export function settingsFromTemplate(template: TemplateJson): CostSettings {
  const all = Object.entries(template.Resources);
  const ofType = (type: string) => all.filter(([, r]) => r.Type === type);
  const one = (type: string, what: string): [string, Record<string, unknown>] => {
    const found = ofType(type);
    if (found.length !== 1) throw new TemplateError(`expected one ${what} (${type}), found ${found.length}`);
    return [found[0]![0], found[0]![1].Properties ?? {}];
  };

  // Firehose
  const [, stream] = one('AWS::KinesisFirehose::DeliveryStream', 'delivery stream');
  const dest = stream.ExtendedS3DestinationConfiguration as Props;
  if (!dest) throw new TemplateError('the delivery stream has no extended S3 destination');
  const processors = (dest.ProcessingConfiguration?.Processors ?? []) as {
    Type: string;
    Parameters?: { ParameterName: string; ParameterValue: unknown }[];
  }[];
  const lambdaProcessor = processors.find((p) => p.Type === 'Lambda');
  const param = (name: string, fallback: number) => {
    const v = lambdaProcessor?.Parameters?.find((p) => p.ParameterName === name)?.ParameterValue;
    return v === undefined ? fallback : Number(v);
  };

  // DynamoDB: tables, their autoscaling targets and target-tracking policies.
  const policies = new Map<string, number>();
  for (const [, p] of ofType('AWS::ApplicationAutoScaling::ScalingPolicy')) {
    const props = p.Properties as Props;
    const target = props.ScalingTargetId?.Ref as string | undefined;
    const value = props.TargetTrackingScalingPolicyConfiguration?.TargetValue;
    if (target && typeof value === 'number') policies.set(target, value);
  }
  const ranges = new Map<string, { read?: CapacityRange; write?: CapacityRange }>();
  for (const [id, t] of ofType('AWS::ApplicationAutoScaling::ScalableTarget')) {
    const props = t.Properties as Props;
    if (props.ServiceNamespace !== 'dynamodb') continue;
    const join = props.ResourceId?.['Fn::Join']?.[1] as unknown[] | undefined;
    const table = (join?.find((x) => typeof x === 'object') as { Ref?: string } | undefined)?.Ref;
    if (!table) continue;
    const range: CapacityRange = {
      min: props.MinCapacity,
      max: props.MaxCapacity,
      targetUtilization: policies.get(id) ?? 70,
    };
    const entry = ranges.get(table) ?? {};
    if (props.ScalableDimension === 'dynamodb:table:ReadCapacityUnits') entry.read = range;
    if (props.ScalableDimension === 'dynamodb:table:WriteCapacityUnits') entry.write = range;
    ranges.set(table, entry);
  }
  const tables: Partial<CostSettings['tables']> = {};
  for (const [id, t] of ofType('AWS::DynamoDB::Table')) {
    const props = t.Properties as Props;
    // A retained table's name ends with the stack's id (infra/state-tables.ts): a Fn::Join whose
    // first part is the plain name.
    const joined = (props.TableName as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
    const name = String(joined ? joined[1][0] : props.TableName);
    const role = (['dedup', 'users', 'subscriptions'] as const).find((r) => name.endsWith(`-${r}`));
    if (!role) continue;
    const provisioned = props.BillingMode !== 'PAY_PER_REQUEST';
    const range = ranges.get(id) ?? {};
    const fixed = (units: number | undefined): CapacityRange | undefined =>
      units === undefined ? undefined : { min: units, max: units, targetUtilization: 100 };
    tables[role] = {
      name,
      id,
      billing: provisioned ? 'provisioned' : 'on-demand',
      pointInTimeRecovery: props.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true,
      read: provisioned ? (range.read ?? fixed(props.ProvisionedThroughput?.ReadCapacityUnits)) : undefined,
      write: provisioned
        ? (range.write ?? fixed(props.ProvisionedThroughput?.WriteCapacityUnits))
        : undefined,
    };
  }
  for (const role of ['dedup', 'users', 'subscriptions'] as const) {
    if (!tables[role]) throw new TemplateError(`no DynamoDB table named *-${role}`);
  }

  // Lambda
  const fn = (suffix: string): FunctionSettings & { env: Record<string, unknown> } => {
    const found = ofType('AWS::Lambda::Function').find(([, f]) =>
      String(f.Properties?.FunctionName ?? '').endsWith(`-${suffix}`),
    );
    if (!found) throw new TemplateError(`no Lambda function named *-${suffix}`);
    const props = found[1].Properties as Props;
    return {
      name: String(props.FunctionName),
      memoryMiB: props.MemorySize ?? 128,
      architecture: props.Architectures?.[0] === 'arm64' ? 'arm64' : 'x86_64',
      ephemeralStorageMiB: props.EphemeralStorage?.Size ?? 512,
      env: props.Environment?.Variables ?? {},
    };
  };
  const { env, ...transform } = fn('transform');
  const { env: _compactionEnv, ...compaction } = fn('compaction');

  // S3 lifecycle of the lake bucket (the one with a staging/ rule).
  const lake = ofType('AWS::S3::Bucket')
    .map(([, b]) => (b.Properties?.LifecycleConfiguration as { Rules?: Props[] })?.Rules ?? [])
    .find((rules) => rules.some((r) => r.Prefix === 'staging/'));
  if (!lake) throw new TemplateError('no lake bucket with a staging/ lifecycle rule');
  const rule = (prefix: string) => lake.find((r) => r.Prefix === prefix);
  const transition = rule('curated/events/')?.Transitions?.[0];
  const noncurrent = lake.find((r) => r.NoncurrentVersionExpiration)?.NoncurrentVersionExpiration
    ?.NoncurrentDays;

  return {
    delivery: {
      source: stream.DeliveryStreamType === 'KinesisStreamAsSource' ? 'kinesis' : 'direct-put',
      deaggregation: processors.some((p) => p.Type === 'RecordDeAggregation'),
      dynamicPartitioning: dest.DynamicPartitioningConfiguration?.Enabled === true,
      bufferSizeMiB: dest.BufferingHints?.SizeInMBs ?? 5,
      bufferIntervalSeconds: dest.BufferingHints?.IntervalInSeconds ?? 300,
      processorBufferSizeMiB: param('BufferSizeInMBs', 1),
      processorBufferIntervalSeconds: param('BufferIntervalInSeconds', 60),
    },
    tables: tables as CostSettings['tables'],
    dedupTtlHours: Number(env[SETTING_SPECS.dedupTtlHours.lambdaEnv!] ?? DEFAULT_DEDUP_TTL_HOURS),
    transform,
    compaction,
    lake: {
      stagingExpirationDays: rule('staging/')?.ExpirationInDays ?? Number.POSITIVE_INFINITY,
      curatedTransitionDays: transition?.TransitionInDays ?? Number.POSITIVE_INFINITY,
      curatedStorageClass: transition?.StorageClass ?? 'STANDARD',
      noncurrentDays: noncurrent ?? 0,
    },
    alarms: ofType('AWS::CloudWatch::Alarm').length,
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    api: ofType('AWS::ApiGateway::RestApi').length > 0,
  };
}
