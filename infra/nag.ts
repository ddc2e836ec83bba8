import { type CfnElement, type Resource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

// cdk-nag acknowledgements that name a resource the way cdk-nag prints it in a finding
// (`<LogicalId.Arn>`), computed rather than pasted, so they survive a renamed construct.

/** `<LogicalId.Arn>` of an L2 resource, as cdk-nag's IAM5 findings write it. */
export function arnToken(resource: Resource): string {
  const stack = Stack.of(resource);
  return `<${stack.resolve(stack.getLogicalId(resource.node.defaultChild as CfnElement))}.Arn>`;
}

/** Acknowledges IAM5 for object grants under `prefixes` of a bucket: objects are named at run time. */
export function acknowledgePrefixGrants(
  scope: IConstruct,
  bucket: Resource,
  prefixes: string[],
  reason: string,
): void {
  Validations.of(scope).acknowledge(
    ...prefixes.map((p) => ({ id: `AwsSolutions-IAM5[Resource::${arnToken(bucket)}/${p}*]`, reason })),
  );
}
