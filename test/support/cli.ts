import { spawnSync } from 'node:child_process';

/** Runs the `firelake` CLI as a scheduler would: its exit code, stdout and stderr. */
export function firelake(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/index.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
