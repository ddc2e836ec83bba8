import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';

// `firelake preflight`: before `npx cdk deploy`, reads the account's Lambda settings
// (GetAccountSettings, in the region the SDK resolves) and says what the configured stack
// (cdk.json's context and `-c` values, as cdk reads them) would trip on, and what to change.
// Exit 1 when the deploy would be refused. The checks: infra/preflight.ts.

interface PreflightFlags {
  context: string[];
  region?: string;
  json?: boolean;
}

function collectContext(text: string, previous: string[]): string[] {
  if (!/^[^=]+=/.test(text))
    throw new InvalidArgumentError('Expected key=value, e.g. firelake:compactionMemoryMiB=3008.');
  return [...previous, text];
}

export const preflightCommand = new Command('preflight')
  .description("check the AWS account's Lambda limits against the configured stack before a deploy")
  .option('-c, --context <key=value>', 'CDK context, as `cdk -c` (repeatable)', collectContext, [])
  .option('--region <region>', 'AWS region (default: the SDK’s, AWS_REGION)')
  .option('--json', 'the report as JSON on stdout')
  .action(async (flags: PreflightFlags) => {
    const [{ configFromContext, resolveConfig }, { preflight }, { lambdaClient }, { readLambdaAccount }] =
      await Promise.all([
        import('../infra/config.js'),
        import('../infra/preflight.js'),
        import('../aws/lambda.js'),
        import('./preflight-account.js'),
      ]);
    const context: Record<string, unknown> = { ...cdkJsonContext() };
    for (const pair of flags.context) {
      const at = pair.indexOf('=');
      context[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const config = resolveConfig(configFromContext((key) => context[key]));
    const client = lambdaClient({ region: flags.region });
    let account: Awaited<ReturnType<typeof readLambdaAccount>>;
    try {
      account = await readLambdaAccount(client);
    } finally {
      client.destroy();
    }
    const report = preflight(config, account);
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatReport(report));
    if (!report.deployable) process.exitCode = 1;
  });

function cdkJsonContext(): Record<string, unknown> {
  const text = readFileSync(new URL('../cdk.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { context?: Record<string, unknown> }).context ?? {};
}

function formatReport(report: import('../infra/preflight.js').PreflightReport): string {
  const a = report.account;
  const lines = [
    `Lambda in this account: ConcurrentExecutions ${a.concurrentExecutions}, UnreservedConcurrentExecutions ${a.unreservedConcurrentExecutions}`,
  ];
  for (const f of report.findings) {
    lines.push(
      `${f.level === 'ok' ? 'ok     ' : f.level === 'warning' ? 'WARNING' : 'ERROR  '} ${f.check}: ${f.message}`,
    );
    if (f.change) lines.push(`        change: ${f.change}`);
  }
  lines.push(
    report.deployable ? 'the account accepts this stack' : 'the account would refuse this stack: see ERROR',
  );
  return lines.join('\n');
}
