import { spawn, spawnSync } from 'node:child_process';
import { cliArgv } from './compiled.js';

// The `firelake` CLI in a process of its own, as a user or a scheduler runs it.

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `firelake` CLI as a scheduler would: its exit code, stdout and stderr. */
export function firelake(...args: string[]): CommandResult {
  return firelakeWith({}, ...args);
}

/** The same, with variables added to the environment. */
export function firelakeWith(env: Record<string, string>, ...args: string[]): CommandResult {
  const run = spawnSync(process.execPath, [...cliArgv(), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The same without blocking this process: a pipeline the test runs in-process keeps serving. */
export function firelakeAsync(args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliArgv(), ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An S3 lake whose endpoint refuses at once (nothing listens on port 9): a command fails fast. */
export const REFUSING_S3 = {
  lake: 's3://nobucket',
  env: {
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  },
};
