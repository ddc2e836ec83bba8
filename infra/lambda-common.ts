import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';

// What every Firelake function shares: where the code is, how it is bundled (esbuild from
// node_modules, never Docker, so `cdk synth` works offline), and a role that may write to its
// own log group and nothing else until a construct grants more.

/** The repository root (infra/ is one level below it). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const entry = (relative: string) => join(ROOT, relative);

export const LOCK_FILE = join(ROOT, 'package-lock.json');

/** Node.js 24, the newest LTS Lambda runs (nodejs22.x leaves standard support in April 2027). */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * ESM bundles with every dependency inside, the AWS SDK included: the code runs with the SDK
 * version it was tested with (and with the @smithy/node-http-handler aws/clients.ts builds
 * on), not whichever SDK the Lambda runtime ships. The banner gives CommonJS dependencies
 * bundled into ESM a working `require`.
 */
/** NODE_OPTIONS of every function: stack traces of the bundle point into the TypeScript. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

export const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  externalModules: [],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  forceDockerBundling: false,
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
};

/**
 * BUNDLING as esbuild's own options, for tests and benches that bundle a handler as `cdk deploy`
 * does (the CDK's NodejsFunction maps the same fields).
 */
export function esbuildAsDeployed(): Pick<
  BuildOptions,
  | 'bundle'
  | 'platform'
  | 'format'
  | 'target'
  | 'minify'
  | 'sourcemap'
  | 'sourcesContent'
  | 'banner'
  | 'mainFields'
> {
  return {
    bundle: true,
    platform: 'node',
    format: BUNDLING.format === 'esm' ? 'esm' : 'cjs',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    banner: BUNDLING.banner ? { js: BUNDLING.banner } : undefined,
    mainFields: ['module', 'main'],
  };
}

/**
 * The Lambda architecture whose DuckDB native binding is installed in node_modules: esbuild
 * cannot bundle a `.node` file, so the binding is copied into the asset as installed, and the
 * function must run on the CPU it was built for. `npm ci` on x86-64 Linux installs
 * @duckdb/node-bindings-linux-x64 (the default here); on arm64 Linux, -linux-arm64.
 */
export function duckdbArchitecture(root = ROOT): { architecture: lambda.Architecture; binding: string } {
  const candidates = [
    { architecture: lambda.Architecture.X86_64, binding: '@duckdb/node-bindings-linux-x64' },
    { architecture: lambda.Architecture.ARM_64, binding: '@duckdb/node-bindings-linux-arm64' },
  ];
  const found = candidates.find((c) => existsSync(join(root, 'node_modules', c.binding, 'duckdb.node')));
  if (!found) {
    throw new Error(
      'no Linux DuckDB binding in node_modules (@duckdb/node-bindings-linux-x64 or -linux-arm64): ' +
        'run `npm ci` on Linux, or `npm install --no-save @duckdb/node-bindings-linux-x64` elsewhere',
    );
  }
  return found;
}

export interface FunctionBaseProps {
  functionName: string;
  logRetentionDays: number;
}

/** A log group with retention and a role that can write only to it. */
export class FunctionBase extends Construct {
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FunctionBaseProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      // Logs are operational, not the lake: removing them with the stack is fine.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: its own log group, plus what the stack grants`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
  }
}

/** The Node.js 24 runtime is a choice (see NODE_RUNTIME), not an oversight. */
export function acknowledgeRuntime(fn: lambda.IFunction): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Pinned to Node.js 24 LTS, the runtime Firelake is built and benchmarked on; upgraded with the project.',
  });
}
