import { CommanderError } from 'commander';
import { FirelakeError } from '../lake/errors.js';

// The CLI's one error handler: what `firelake` prints on stderr for an error a command let
// through, and its exit status. Codes and statuses: docs/errors.md.

/** Exit statuses of `firelake`. */
export const EXIT = {
  ok: 0,
  /** Any error, a bad flag included (commander's own status for one), and a failed verdict. */
  failure: 1,
  /** Stopped by a second Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;

/**
 * The next step, in CLI terms, for the codes whose message cannot name it: the library that
 * throws does not know which command ran it.
 */
const NEXT_STEP: Readonly<Record<string, string>> = {
  COMPACTION_CONFLICT: 'another run of the day published first; run again to compact what arrived since',
  PRECONDITION_FAILED: 'another writer changed the object first; run again',
  DYNAMO_UNAVAILABLE:
    'DynamoDB did not answer after retries: check AWS_ENDPOINT_URL_DYNAMODB, or that `firelake serve` runs',
  DYNALITE_START_FAILED: 'is another `firelake serve` or `firelake start` using the same --data-dir?',
};

export interface Failure {
  /** The process's exit status. */
  exitCode: number;
  /** What to write on stderr ('' when commander has written it already). */
  stderr: string;
}

/**
 * How the CLI ends on an error: commander's own (a bad flag, --help) as commander printed and
 * chose; a FirelakeError as its message, cause and code, with the next step when the CLI knows
 * one; anything else (a bug) as its message. The stack only with FIRELAKE_DEBUG set.
 */
export function failureOf(error: unknown, env: NodeJS.ProcessEnv = process.env): Failure {
  if (error instanceof CommanderError) return { exitCode: error.exitCode, stderr: '' };
  const e = error instanceof Error ? error : new Error(String(error));
  const cause = e.cause instanceof Error ? ` (cause: ${e.cause.message})` : '';
  const lines = [`firelake: ${e.message}${cause}`];
  if (e instanceof FirelakeError) {
    lines[0] = `firelake [${e.code}]: ${e.message}${cause}`;
    const next = NEXT_STEP[e.code];
    if (next) lines.push(`firelake: ${next}`);
  }
  if (env.FIRELAKE_DEBUG) lines.push(e.stack ?? '');
  return { exitCode: EXIT.failure, stderr: `${lines.join('\n')}\n` };
}
