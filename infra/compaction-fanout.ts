import { Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { compactionFunction } from './compaction.js';
import type { FirelakeConfig } from './config.js';
import { arnToken } from './nag.js';

// Compaction past one Lambda: a Step Functions state machine that plans the nightly days
// (compaction/fanout-handler.ts `plan`), compacts their units in a Distributed Map of worker
// Lambdas (`unit`, retried with backoff), then commits each fanned-out day (`commit`: the
// day-wide checks and the same conditional commit of the table as a single run). The nightly
// schedule starts it; a person starts it with {"date": "YYYY-MM-DD"}. A failed, timed-out or
// aborted execution goes to the compaction dead-letter queue, whose alarm exists already.

export interface CompactionFanOutProps {
  namePrefix: string;
  compaction: FirelakeConfig['compaction'];
  logRetentionDays: number;
  bucket: s3.Bucket;
}

/** Errors a retry cannot fix (compaction/errors.ts): the same staging fails the same way. */
const PERMANENT_ERRORS = [
  'UnreadableObjectError',
  'StagingShrunkError',
  'MissingDayError',
  'ConcurrentRunError',
];

export class CompactionFanOut extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly planFn: NodejsFunction;
  readonly unitFn: NodejsFunction;
  readonly commitFn: NodejsFunction;

  constructor(scope: Construct, id: string, props: CompactionFanOutProps) {
    super(scope, id);
    const { compaction, bucket } = props;
    const fn = (
      name: string,
      handler: string,
      description: string,
      size: { memory: number; minutes: number },
    ) =>
      // As the compaction Lambda: run folders and the manifest live under curated/ too.
      compactionFunction(this, {
        ids: { fn: `${handler}Function`, base: `${handler}Base` },
        functionName: `${props.namePrefix}-compaction-${name}`,
        description,
        entry: 'compaction/fanout-handler.ts',
        handler,
        memoryMiB: size.memory,
        timeoutMinutes: size.minutes,
        bucket,
        compaction,
        logRetentionDays: props.logRetentionDays,
      });
    const big = { memory: compaction.memoryMiB, minutes: compaction.timeoutMinutes };
    this.planFn = fn('plan', 'plan', 'Fan-out compaction: plans the days and their units', {
      memory: 1024,
      minutes: 5,
    });
    this.unitFn = fn(
      'unit',
      'unit',
      'Fan-out compaction: compacts one unit (or one small day) with DuckDB',
      big,
    );
    this.commitFn = fn('commit', 'commit', 'Fan-out compaction: checks and publishes a fanned-out day', big);

    const plan = new tasks.LambdaInvoke(this, 'Plan', {
      lambdaFunction: this.planFn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const unit = new tasks.LambdaInvoke(this, 'CompactUnit', {
      lambdaFunction: this.unitFn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    });
    // Retriers are tried in order: errors a retry cannot fix first, then everything else (a
    // timeout, a sandbox out of memory, S3 throttling) again with backoff and jitter.
    unit.addRetry({ errors: PERMANENT_ERRORS, maxAttempts: 0 });
    unit.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(30),
      backoffRate: 2,
      maxAttempts: compaction.retryAttempts,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const units = new sfn.DistributedMap(this, 'Units', {
      itemsPath: sfn.JsonPath.stringAt('$.units'),
      // Units compacted at once: Lambda concurrency the fan-out may take from the account.
      maxConcurrency: compaction.maxConcurrency,
      // No tolerated failures (the default): a unit failing after its retries fails the run
      // before any commit, and the old days stay.
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: sfn.JsonPath.DISCARD,
    });
    units.itemProcessor(unit);

    const commit = new tasks.LambdaInvoke(this, 'Commit', {
      lambdaFunction: this.commitFn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    // A uuid written by two units (staged under two minutes): compact that day in one run.
    const single = new tasks.LambdaInvoke(this, 'CompactDayInOneRun', {
      lambdaFunction: this.unitFn,
      payload: sfn.TaskInput.fromObject({
        day: sfn.JsonPath.stringAt('$.day'),
        run_id: '',
        unit: -1,
        force: false,
      }),
      payloadResponseOnly: true,
    });
    commit.addCatch(single, { errors: ['CrossUnitDuplicateError'], resultPath: sfn.JsonPath.DISCARD });
    const commits = new sfn.Map(this, 'Commits', {
      itemsPath: sfn.JsonPath.stringAt('$.commits'),
      maxConcurrency: 1,
      resultPath: sfn.JsonPath.DISCARD,
    });
    commits.itemProcessor(commit);

    const definition = plan.next(
      new sfn.Choice(this, 'AnyUnits')
        .when(sfn.Condition.isPresent('$.units[0]'), units.next(commits))
        .otherwise(new sfn.Succeed(this, 'NothingToCompact')),
    );
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${props.namePrefix}-compaction`,
      retention: props.logRetentionDays as logs.RetentionDays,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${props.namePrefix}-compaction`,
      comment: 'Fan-out compaction: plan, units on a Distributed Map, commit per day',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // A day's units may queue behind the concurrency cap: hours, not the default year.
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    acknowledgeStateMachine(this.stateMachine, [this.planFn, this.unitFn, this.commitFn]);
  }

  /** The nightly schedule's target: starts an execution with the scheduled time. */
  scheduleTarget(
    deadLetterQueue: sqs.IQueue,
    compaction: FirelakeConfig['compaction'],
  ): scheduler.IScheduleTarget {
    return new targets.StepFunctionsStartExecution(this.stateMachine, {
      // The scheduled time, not "now": a retried or delayed start still compacts the right day.
      input: scheduler.ScheduleTargetInput.fromObject({
        scheduledTime: scheduler.ContextAttribute.scheduledTime,
      }),
      retryAttempts: compaction.retryAttempts,
      maxEventAge: Duration.hours(2),
      deadLetterQueue,
    });
  }

  /** Failed, timed-out and aborted executions go to the queue (and so to its alarm). */
  reportFailuresTo(queue: sqs.IQueue): events.Rule {
    return new events.Rule(this, 'Failures', {
      description: 'Compaction state machine executions that did not succeed',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [this.stateMachine.stateMachineArn],
        },
      },
      targets: [new eventTargets.SqsQueue(queue)],
    });
  }
}

/** cdk-nag findings of the state machine's role that are its purpose, each with its reason. */
function acknowledgeStateMachine(machine: sfn.StateMachine, fns: lambda.IFunction[]): void {
  const stack = Stack.of(machine);
  Validations.of(machine).acknowledge(
    ...fns.map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::${arnToken(fn as lambda.Function)}:*]`,
      reason: 'The state machine invokes these functions (any version), nothing else.',
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing and CloudWatch Logs delivery take no resource-level permissions (AWS documents *).',
    },
  );
  // The Distributed Map's own policy: its child executions, named by the state machine's name.
  const policy = machine.node.tryFindChild('DistributedMapPolicy');
  if (!policy) return;
  const known = (value: string, token: string) => (Token.isUnresolved(value) ? token : value);
  const region = known(stack.region, '<AWS::Region>');
  const partition = Token.isUnresolved(stack.region) ? '<AWS::Partition>' : stack.partition;
  const name = JSON.stringify(stack.resolve(Fn.select(6, Fn.split(':', machine.stateMachineArn))));
  const executions = `arn:${known(partition, '<AWS::Partition>')}:states:${region}:${known(stack.account, '<AWS::AccountId>')}:execution:${name}`;
  Validations.of(policy).acknowledge(
    ...[`${executions}:*`, `${executions}/*:*`].map((arn) => ({
      id: `AwsSolutions-IAM5[Resource::${arn}]`,
      reason: 'The Distributed Map describes and stops the child executions of this one state machine.',
    })),
  );
}
