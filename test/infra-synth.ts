import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { DeepPartial, FirelakeConfig } from '../infra/config.js';
import { ROOT } from '../infra/lambda-common.js';
import { FirelakeStack } from '../infra/stack.js';

// Synthesizes the stack the way `cdk synth` does (the feature flags of cdk.json), once per
// configuration; bundling is skipped here (test/integration/infra-cli.test.ts bundles for real).

export interface Synthesized {
  stack: FirelakeStack;
  template: Template;
  /** Every resource of the template, by logical id. */
  resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;
  /** Unacknowledged cdk-nag AwsSolutions errors, as `rule at path` lines. */
  nagErrors: () => string[];
}

export const CDK_CONTEXT = (
  JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

export function synth(config?: DeepPartial<FirelakeConfig>): Synthesized {
  // CloudFormation's built-in template validation is slow (seconds per stack); the real
  // `cdk synth` in test/integration/infra-cli.test.ts runs it.
  const app = new App({
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new FirelakeStack(app, 'Firelake', {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Synthesized['resources'];
  return {
    stack,
    template,
    resources,
    nagErrors: () => nagErrors(stack),
  };
}

/** Unacknowledged cdk-nag AwsSolutions findings in a scope, as `rule at construct path` lines. */
export function nagErrors(scope: IConstruct): string[] {
  return new AwsSolutionsChecks()
    .validateScope(scope)
    .violations.flatMap((v) =>
      v.violatingResources.map(
        (r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath} (${v.description})`,
      ),
    );
}

/** The logical id of the CloudFormation resource behind an L2 construct. */
export function logicalId(s: Synthesized, construct: { node: { defaultChild?: unknown } }): string {
  return s.stack.getLogicalId(construct.node.defaultChild as Parameters<FirelakeStack['getLogicalId']>[0]);
}

/** The logical id of a role's DefaultPolicy (where grants to the role land). */
export function defaultPolicyOf(s: Synthesized, role: IConstruct): string {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${role.node.path} has no DefaultPolicy`);
  return logicalId(s, policy);
}

/** Resources of one type. */
export function ofType(s: Synthesized, type: string) {
  return Object.entries(s.resources).filter(([, r]) => r.Type === type);
}

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown };

/** Every statement of every identity policy (AWS::IAM::Policy and inline role policies). */
export function identityStatements(s: Synthesized): { policy: string; statement: Statement }[] {
  const out: { policy: string; statement: Statement }[] = [];
  for (const [id, r] of ofType(s, 'AWS::IAM::Policy')) {
    const doc = r.Properties?.PolicyDocument as { Statement: Statement[] };
    for (const statement of doc.Statement) out.push({ policy: id, statement });
  }
  for (const [id, r] of ofType(s, 'AWS::IAM::Role')) {
    for (const p of (r.Properties?.Policies as
      | { PolicyDocument: { Statement: Statement[] } }[]
      | undefined) ?? []) {
      for (const statement of p.PolicyDocument.Statement) out.push({ policy: id, statement });
    }
  }
  return out;
}

/** Allowed actions with a wildcard in any identity policy, as `policy: action` lines. */
export function wildcardActions(s: Synthesized): string[] {
  return identityStatements(s)
    .filter((x) => x.statement.Effect === 'Allow')
    .flatMap((x) => actionsOf(x.statement).map((a) => `${x.policy}: ${a}`))
    .filter((a) => a.includes('*'));
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
