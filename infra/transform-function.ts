import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { SETTING_SPECS, transformFunctionNameFor } from '../lake/settings.js';
import { transformServiceName } from '../transform/metric-names.js';
import type { FirelakeConfig } from './config.js';
import {
  acknowledgeRuntime,
  BUNDLING,
  entry,
  FUNCTION_NODE_OPTIONS,
  FunctionBase,
  LOCK_FILE,
  NODE_RUNTIME,
  ROOT,
} from './lambda-common.js';
import type { StateTables } from './state-tables.js';

// The Firehose transformation Lambda (transform/handler.ts): validate, dedup, state, enrich.
// arm64: no native dependency, and cheaper per GB-second than x86-64.

export interface TransformFunctionProps {
  namePrefix: string;
  transform: FirelakeConfig['transform'];
  metricsNamespace: string;
  tables: StateTables;
}

export class TransformFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: TransformFunctionProps) {
    super(scope, id);
    const { transform } = props;
    const functionName = transformFunctionNameFor(props.namePrefix);
    const base = new FunctionBase(this, 'Base', {
      functionName,
      logRetentionDays: transform.logRetentionDays,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      functionName,
      description: 'Firehose transformation: validate, dedup by event_uuid, user/subscription state, enrich',
      entry: entry('transform/handler.ts'),
      handler: 'handler',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: transform.memoryMiB,
      timeout: Duration.seconds(transform.timeoutSeconds),
      reservedConcurrentExecutions: transform.reservedConcurrency,
      role: base.role,
      logGroup: base.logGroup,
      projectRoot: ROOT,
      depsLockFilePath: LOCK_FILE,
      bundling: BUNDLING,
      environment: {
        // The variables transform/config.ts reads, named once in lake/settings.ts.
        [SETTING_SPECS.dedupTtlHours.lambdaEnv!]: String(transform.dedupTtlHours),
        [SETTING_SPECS.transformLateWindowDays.lambdaEnv!]: String(transform.lateWindowDays),
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_SERVICE_NAME: transformServiceName(props.namePrefix),
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
      },
    });
    // Table names and the grants for the calls the transform makes, wired in one place.
    props.tables.bindTransform(this.fn);
    acknowledgeRuntime(this.fn);
  }
}
