import { Command } from 'commander';
import { backfillCommand } from './backfill.js';
import { compactCommand } from './compact.js';
import { costCommand } from './cost.js';
import { failureOf } from './errors.js';
import { generateCommand } from './generate.js';
import { qualityCommand } from './quality.js';
import { queryCommand } from './query.js';
import { replayCommand } from './replay.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';
import { startCommand } from './start.js';

// The AWS SDK warns on Node 20 that its 2027 releases need Node 22: a notice for us, not for a
// user's terminal (it is read when the first client is built, after these imports).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// One CLI, `firelake`; one commander command per file in this folder.
const program = new Command('firelake')
  .description('Firelake: event ingestion into a data lake on AWS, or on this machine')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const command of [
  serveCommand,
  compactCommand,
  generateCommand,
  startCommand,
  qualityCommand,
  queryCommand,
  reportCommand,
  backfillCommand,
  costCommand,
  replayCommand,
] as Command[])
  program.addCommand(command);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // One error handler for every command (cli/errors.ts): a clear line on stderr, non-zero exit.
  const failure = failureOf(error);
  process.stderr.write(failure.stderr);
  process.exit(failure.exitCode);
}
