import { Command, CommanderError } from 'commander';
import { backfillCommand } from './backfill.js';
import { compactCommand } from './compact.js';
import { costCommand } from './cost.js';
import { generateCommand } from './generate.js';
import { qualityCommand } from './quality.js';
import { queryCommand } from './query.js';
import { replayCommand } from './replay.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';
import { startCommand } from './start.js';

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
  if (error instanceof CommanderError) process.exit(error.exitCode);
  // One error handler: a clear line on stderr (with the cause), non-zero exit.
  const e = error as Error;
  console.error(`firelake: ${e.message}${e.cause instanceof Error ? ` (cause: ${e.cause.message})` : ''}`);
  if (process.env.FIRELAKE_DEBUG) console.error(e.stack);
  process.exit(1);
}
