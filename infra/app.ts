import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext } from './config.js';
import { FirelakeStack } from './stack.js';

// `npx cdk synth|deploy` runs this (cdk.json). Settings come from cdk.json context or
// `-c firelake:<name>=<value>` (infra/config.ts configFromContext); account and region from the
// AWS CLI profile in use. cdk-nag's AWS Solutions checks run on every synth.

const app = new App();
const stackName = (app.node.tryGetContext('firelake:stackName') as string | undefined) ?? 'Firelake';
new FirelakeStack(app, stackName, {
  config: configFromContext((key) => app.node.tryGetContext(key)),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
