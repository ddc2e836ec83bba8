import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../infra/config.js';
import { duckdbArchitecture } from '../../infra/lambda-common.js';
import { logicalId, ofType, type Synthesized, synth } from '../infra-synth.js';

// The fan-out compaction in the synthesized stack: the state machine's intent, read from its
// definition, and what starts it and hears its failures.

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

type State = Record<string, unknown> & { Type: string; Next?: string; End?: boolean };
interface Definition {
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
}

/** The state machine's ASL, tokens (function ARNs) kept inside their strings as 'Fn::GetAtt' text. */
function definition(): Definition {
  const [, machine] = ofType(s, 'AWS::StepFunctions::StateMachine')[0]!;
  const body = machine.Properties!.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part).replaceAll('"', "'")))
    .join('');
  return JSON.parse(text) as Definition;
}

const fnId = (fn: 'planFn' | 'unitFn' | 'commitFn') => logicalId(s, s.stack.compactionFanOut[fn]);

describe('fan-out compaction state machine', () => {
  it('plans, compacts the units in a Distributed Map of worker Lambdas, then commits each day', () => {
    const d = definition();
    const plan = d.States[d.StartAt]!;
    expect(JSON.stringify(plan)).toContain(fnId('planFn'));
    const choice = d.States[plan.Next!]!;
    expect(choice.Type).toBe('Choice');
    const mapName = (choice.Choices as { Next: string }[])[0]!.Next;
    const map = d.States[mapName]!;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.units',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
    expect(map.MaxConcurrency).toBe(DEFAULT_CONFIG.compaction.maxConcurrency);
    // No failed unit tolerated (absent means 0): a unit failing after its retries stops the run.
    expect(map.ToleratedFailurePercentage ?? 0).toBe(0);
    expect(map.ToleratedFailureCount ?? 0).toBe(0);
    const processor = map.ItemProcessor as { StartAt: string; States: Record<string, State> };
    const unit = processor.States[processor.StartAt]!;
    expect(JSON.stringify(unit)).toContain(fnId('unitFn'));
    // Errors a retry cannot fix are not retried; anything else is, with backoff.
    const retry = unit.Retry as { ErrorEquals: string[]; MaxAttempts: number; BackoffRate?: number }[];
    expect(retry[0]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['UnreadableObjectError']),
      MaxAttempts: 0,
    });
    expect(retry.at(-1)).toMatchObject({
      ErrorEquals: ['States.ALL'],
      MaxAttempts: DEFAULT_CONFIG.compaction.retryAttempts,
      BackoffRate: 2,
    });
    // After every unit: the commits, one day at a time.
    const commits = d.States[map.Next!]!;
    expect(commits).toMatchObject({ Type: 'Map', ItemsPath: '$.commits', MaxConcurrency: 1 });
    const inner = commits.ItemProcessor as { StartAt: string; States: Record<string, State> };
    const commit = inner.States[inner.StartAt]!;
    expect(JSON.stringify(commit)).toContain(fnId('commitFn'));
    // A uuid two units wrote: that day in one run instead.
    const fallback = (commit.Catch as { ErrorEquals: string[]; Next: string }[])[0]!;
    expect(fallback.ErrorEquals).toEqual(['CrossUnitDuplicateError']);
    expect(JSON.stringify(inner.States[fallback.Next])).toContain(fnId('unitFn'));
    expect(d.TimeoutSeconds).toBeGreaterThan(0);
  });

  it('logs every execution and traces it', () => {
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it('runs workers and commits as compaction Lambdas: 10 GB, 10 GB of /tmp, 15 minutes, DuckDB bundled', () => {
    for (const handler of ['unit', 'commit']) {
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: `index.${handler}`,
        MemorySize: DEFAULT_CONFIG.compaction.memoryMiB,
        EphemeralStorage: { Size: DEFAULT_CONFIG.compaction.ephemeralStorageMiB },
        Timeout: DEFAULT_CONFIG.compaction.timeoutMinutes * 60,
        Architectures: [duckdbArchitecture().architecture.name],
        Environment: {
          Variables: Match.objectLike({ LAKE_BUCKET: { Ref: logicalId(s, s.stack.lake.bucket) } }),
        },
      });
    }
  });

  it('sends failed, timed-out and aborted executions to the compaction dead-letter queue, whose alarm exists', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: logicalId(s, s.stack.compactionFanOut.stateMachine) }],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(s, s.stack.compaction.deadLetterQueue), 'Arn'] },
        }),
      ],
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(s, s.stack.compaction.deadLetterQueue), 'QueueName'] },
        },
      ],
    });
  });

  it('passes cdk-nag', () => {
    expect(s.nagErrors()).toEqual([]);
  });
});
