import { Duration, Size, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PENDING_COMPACTION_PREFIX, PREFIX } from '../lake/layout.js';
import { SETTING_SPECS } from '../lake/settings.js';
import { type FirelakeConfig, hourMinute } from './config.js';
import {
  acknowledgeRuntime,
  BUNDLING,
  duckdbArchitecture,
  entry,
  FUNCTION_NODE_OPTIONS,
  FunctionBase,
  LOCK_FILE,
  NODE_RUNTIME,
  ROOT,
} from './lambda-common.js';
import { acknowledgePrefixGrants, arnToken } from './nag.js';

// Nightly compaction (compaction/handler.ts) on EventBridge Scheduler, with retries and a
// dead-letter queue, plus the manifest-deadline check (infra/manifest-check/).

export interface CompactionProps {
  namePrefix: string;
  compaction: FirelakeConfig['compaction'];
  metricsNamespace: string;
  logRetentionDays: number;
  bucket: s3.Bucket;
  /** What the nightly schedule starts (default: this Lambda), given the dead-letter queue. */
  nightly?: (deadLetterQueue: sqs.IQueue) => scheduler.IScheduleTarget;
}

/** The packages of DuckDB's native binding, copied into the asset as installed (not bundled). */
const DUCKDB_PACKAGES = ['@duckdb/node-api', '@duckdb/node-bindings'];

/**
 * Bundling of a function that runs compaction code: esbuild as every function, but DuckDB's
 * native binding copied as installed and compaction/sql/ beside the bundle.
 */
export function duckdbBundling(): BundlingOptions {
  const { binding } = duckdbArchitecture();
  const copied = [...DUCKDB_PACKAGES, binding, 'detect-libc'];
  return {
    ...BUNDLING,
    externalModules: [...DUCKDB_PACKAGES, binding],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      // The binding's .node and .so cannot go through esbuild: copy the installed packages.
      // compaction/engine.ts reads its SQL from ./sql/ next to the module: copy that too.
      afterBundling: (inputDir: string, outputDir: string) => [
        `mkdir -p "${outputDir}/node_modules/@duckdb"`,
        ...copied.map((pkg) => `cp -R "${inputDir}/node_modules/${pkg}" "${outputDir}/node_modules/${pkg}"`),
        `cp -R "${inputDir}/compaction/sql" "${outputDir}/sql"`,
      ],
    },
  };
}

/** The environment every function running compaction code reads (compaction/config.ts). */
export function compactionEnvironment(
  bucket: s3.IBucket,
  compaction: FirelakeConfig['compaction'],
): Record<string, string> {
  return {
    LAKE_BUCKET: bucket.bucketName,
    [SETTING_SPECS.compactionLateWindowDays.lambdaEnv!]: String(compaction.lateWindowDays),
    COMPACTION_WORK_DIR: '/tmp',
    NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
  };
}

/** Compaction reads staging and curated, writes and replaces curated: nothing else. */
export function grantCompactionLake(role: iam.IRole, bucket: s3.Bucket): void {
  // Compaction reads staging and curated, writes and replaces curated, and clears the days a
  // replay left to it (compaction/pending.ts): nothing else.
  grantLake(role, bucket, {
    list: [PREFIX.staging, PREFIX.curated, PENDING_COMPACTION_PREFIX],
    read: [PREFIX.staging, PREFIX.curated],
    write: [PREFIX.curated, PENDING_COMPACTION_PREFIX],
  });
  acknowledgePrefixGrants(
    role,
    bucket,
    [PREFIX.staging, PREFIX.curated, PENDING_COMPACTION_PREFIX],
    'Compaction reads the staging objects of a day, writes curated files named per run, and clears the days a replay left to it (one object per day) under these prefixes.',
  );
}

export interface CompactionFunctionProps {
  /** Construct ids of the function and of its role and log group (kept: logical ids stay). */
  ids: { fn: string; base: string };
  functionName: string;
  description: string;
  /** Source file under the repository root, and its export. */
  entry: string;
  handler: string;
  memoryMiB: number;
  timeoutMinutes: number;
  reservedConcurrentExecutions?: number;
  bucket: s3.Bucket;
  compaction: FirelakeConfig['compaction'];
  logRetentionDays: number;
}

/**
 * A Lambda that runs compaction code: DuckDB bundled beside it, compaction's environment, its
 * /tmp, and its lake grants. The nightly function and the fan-out's plan, unit and commit.
 */
export function compactionFunction(scope: Construct, props: CompactionFunctionProps): NodejsFunction {
  const { compaction, bucket } = props;
  const base = new FunctionBase(scope, props.ids.base, {
    functionName: props.functionName,
    logRetentionDays: props.logRetentionDays,
  });
  const fn = new NodejsFunction(scope, props.ids.fn, {
    functionName: props.functionName,
    description: props.description,
    entry: entry(props.entry),
    handler: props.handler,
    runtime: NODE_RUNTIME,
    architecture: duckdbArchitecture().architecture,
    memorySize: props.memoryMiB,
    ephemeralStorageSize: Size.mebibytes(compaction.ephemeralStorageMiB),
    timeout: Duration.minutes(props.timeoutMinutes),
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    role: base.role,
    logGroup: base.logGroup,
    projectRoot: ROOT,
    depsLockFilePath: LOCK_FILE,
    bundling: duckdbBundling(),
    environment: compactionEnvironment(bucket, compaction),
  });
  acknowledgeRuntime(fn);
  grantCompactionLake(base.role, bucket);
  return fn;
}

export class Compaction extends Construct {
  readonly fn: NodejsFunction;
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  readonly check: NodejsFunction;
  readonly checkSchedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: CompactionProps) {
    super(scope, id);
    const { compaction, bucket } = props;
    const functionName = `${props.namePrefix}-compaction`;
    this.fn = compactionFunction(this, {
      ids: { fn: 'Function', base: 'Base' },
      functionName,
      description: 'Nightly compaction: staging NDJSON to curated Parquet with DuckDB',
      entry: 'compaction/handler.ts',
      handler: 'handler',
      memoryMiB: compaction.memoryMiB,
      timeoutMinutes: compaction.timeoutMinutes,
      // None by default, which a new account requires: two runs of a day may race, and the
      // table's conditional commit lets only one of them publish (compaction/publish.ts).
      reservedConcurrentExecutions: compaction.reservedConcurrency,
      bucket,
      compaction,
      logRetentionDays: props.logRetentionDays,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      queueName: `${props.namePrefix}-compaction-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the compaction schedule.',
    });

    const at = hourMinute(compaction.time);
    this.schedule = new scheduler.Schedule(this, 'Nightly', {
      scheduleName: `${props.namePrefix}-compaction-nightly`,
      description: `Compacts yesterday (UTC) and late days at ${compaction.time} UTC`,
      schedule: scheduler.ScheduleExpression.cron({
        hour: String(at.hour),
        minute: String(at.minute),
        timeZone: TimeZone.ETC_UTC,
      }),
      target:
        props.nightly?.(this.deadLetterQueue) ??
        new targets.LambdaInvoke(this.fn, {
          // The scheduled time, not "now": a retried or delayed run still compacts the right day.
          input: scheduler.ScheduleTargetInput.fromObject({
            scheduledTime: scheduler.ContextAttribute.scheduledTime,
          }),
          retryAttempts: compaction.retryAttempts,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.deadLetterQueue,
        }),
    });

    const checkName = `${props.namePrefix}-manifest-check`;
    const checkBase = new FunctionBase(this, 'CheckBase', {
      functionName: checkName,
      logRetentionDays: props.logRetentionDays,
    });
    this.check = new NodejsFunction(this, 'ManifestCheck', {
      functionName: checkName,
      description: "Alarms when yesterday's curated manifest is missing at the deadline",
      entry: entry('infra/manifest-check/handler.ts'),
      handler: 'handler',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      role: checkBase.role,
      logGroup: checkBase.logGroup,
      projectRoot: ROOT,
      depsLockFilePath: LOCK_FILE,
      bundling: BUNDLING,
      environment: {
        LAKE_BUCKET: bucket.bucketName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      },
    });
    acknowledgeRuntime(this.check);
    // The check reads the curated table's current metadata, its snapshot's index of days;
    // ListBucket on the prefix makes a missing file a 404 instead of a 403.
    grantLake(checkBase.role, bucket, {
      list: [PREFIX.curatedMetadata],
      read: [PREFIX.curatedMetadata],
      write: [],
    });
    acknowledgePrefixGrants(
      checkBase.role,
      bucket,
      [PREFIX.curatedMetadata],
      "The check reads the curated table's current metadata file and its snapshot's index of days.",
    );
    acknowledgeInvokeVersions(this, [this.fn, this.check]);
    const deadline = hourMinute(compaction.manifestDeadline);
    this.checkSchedule = new scheduler.Schedule(this, 'ManifestDeadline', {
      scheduleName: `${props.namePrefix}-manifest-deadline`,
      description: `Checks yesterday's manifest at ${compaction.manifestDeadline} UTC`,
      schedule: scheduler.ScheduleExpression.cron({
        hour: String(deadline.hour),
        minute: String(deadline.minute),
        timeZone: TimeZone.ETC_UTC,
      }),
      target: new targets.LambdaInvoke(this.check, {
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        retryAttempts: 3,
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
  }
}

/**
 * The scheduler roles' invoke grant (made by aws-scheduler-targets) covers `<fn>` and `<fn>:*`,
 * the versions and aliases of that one function; the role sits at the stack's root.
 */
function acknowledgeInvokeVersions(scope: Construct, fns: lambda.IFunction[]): void {
  const stack = Stack.of(scope);
  Validations.of(stack).acknowledge(
    ...fns.map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::${arnToken(fn as lambda.Function)}:*]`,
      reason: 'EventBridge Scheduler may invoke this one function (any version or alias), nothing else.',
    })),
  );
}

/**
 * Object-level grants on lake prefixes with explicit actions (no `s3:*Object*` wildcards):
 * list (ListBucket restricted to the prefixes), read (GetObject, also what HeadObject needs),
 * write (PutObject incl. multipart, DeleteObject for replaced files).
 */
export function grantLake(
  role: iam.IRole,
  bucket: s3.IBucket,
  access: { list: string[]; read: string[]; write: string[] },
): void {
  if (access.list.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': access.list.map((p) => `${p}*`) } },
      }),
    );
  }
  if (access.read.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: access.read.map((p) => bucket.arnForObjects(`${p}*`)),
      }),
    );
  }
  if (access.write.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        resources: access.write.map((p) => bucket.arnForObjects(`${p}*`)),
      }),
    );
  }
}
