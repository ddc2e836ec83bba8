import { App } from 'aws-cdk-lib';
import { configFromContext } from '../infra/config.js';
import { FirelakeStack } from '../infra/stack.js';
import type { TemplateJson } from './template.js';

// The template `npx cdk synth` would produce for a context (cdk.json plus `-c` values), made in
// process without bundling the Lambdas (their code does not change the bill). The stack checks
// its configuration as it does for a deploy: a setting it would refuse throws its ConfigError.

export { cdkJsonContext } from '../infra/config.js';

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
