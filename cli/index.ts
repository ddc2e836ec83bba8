import { Command } from 'commander';
import { failureOf } from './errors.js';

// The AWS SDK warns on Node 20 (older than package.json's engines, but it still runs Firelake)
// that its 2027 releases need Node 22: a notice for us, not for a user's terminal (it is read
// when the first client is built, after these imports).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// One CLI, `firelake`; one commander command per file in this folder.
const program = new Command('firelake')
  .description('Firelake: event ingestion into a data lake on AWS, or on this machine')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

// Each command's module is loaded only when it runs, so a command does not pay for the others'
// machinery (DuckDB, the AWS SDK clients, the report's renderer, the local runtime). `--help` and
// an unknown command load every one, which is cheap: a command module loads its machinery in its
// action. A command starts in 0.08-0.17 CPU-s compiled, 0.33-0.57 through tsx (docs/testing.md).
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: () => import('./serve.js').then((m) => m.serveCommand),
  compact: () => import('./compact.js').then((m) => m.compactCommand),
  generate: () => import('./generate.js').then((m) => m.generateCommand),
  start: () => import('./start.js').then((m) => m.startCommand),
  quality: () => import('./quality.js').then((m) => m.qualityCommand),
  query: () => import('./query.js').then((m) => m.queryCommand),
  report: () => import('./report.js').then((m) => m.reportCommand),
  backfill: () => import('./backfill.js').then((m) => m.backfillCommand),
  cost: () => import('./cost.js').then((m) => m.costCommand),
  preflight: () => import('./preflight.js').then((m) => m.preflightCommand),
  replay: () => import('./replay.js').then((m) => m.replayCommand),
};

const asked = process.argv[2];
const names = asked !== undefined && Object.hasOwn(COMMANDS, asked) ? [asked] : Object.keys(COMMANDS);
for (const name of names) program.addCommand(await COMMANDS[name]!());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // One error handler for every command (cli/errors.ts): a clear line on stderr, non-zero exit.
  const failure = failureOf(error);
  process.stderr.write(failure.stderr);
  process.exit(failure.exitCode);
}
