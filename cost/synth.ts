import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { configFromContext } from '../infra/config.js';
import { ROOT } from '../infra/lambda-common.js';
import { FirelakeStack } from '../infra/stack.js';
import type { TemplateJson } from './template.js';

// The template `npx cdk synth` would produce for a context (cdk.json plus `-c` values), made in
// process without bundling the Lambdas (their code does not change the bill). The stack checks
// its configuration as it does for a deploy: a setting it would refuse throws its ConfigError.

/** cdk.json's context: the settings `npx cdk deploy` starts from. */
export function cdkJsonContext(): Record<string, unknown> {
  const text = readFileSync(join(ROOT, 'cdk.json'), 'utf8');
  return (JSON.parse(text) as { context?: Record<string, unknown> }).context ?? {};
}

export function synthTemplate(context: Record<string, unknown>, region: string): TemplateJson {
  const app = new App({
    context: { ...context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new FirelakeStack(app, 'Firelake', {
    config: configFromContext((key) => app.node.tryGetContext(key)),
    env: { account: '123456789012', region },
  });
  return app.synth().getStackByName(stack.stackName).template as TemplateJson;
}
