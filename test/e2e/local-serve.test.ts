import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, describe, expect, it } from 'vitest';
import { exportLines } from '../../cli/serve.js';
import { FolderStore } from '../../lake/folder-store.js';
import { cliArgv } from '../support/compiled.js';
import { readLines } from '../support/lake-read.js';
import { EXPORT_NAMES } from '../support/serve-process.js';

// `firelake serve` as a person or a script runs it: a separate process, configured only from the
// export lines it prints, stopped with SIGTERM, which must flush everything into the lake.

const dir = mkdtempSync(join(tmpdir(), 'firelake-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('firelake serve', () => {
  it('prints the export lines a producer needs, takes records, and flushes them into the lake on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [...cliArgv(), 'serve', '--data-dir', join(dir, 'data'), '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const env: Record<string, string> = {};
      const lines = createInterface({ input: child.stdout });
      for await (const line of lines) {
        const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
        expect(m, `stdout line "${line}"`).not.toBeNull();
        env[m![1]!] = m![2]!;
        if (Object.keys(env).length === EXPORT_NAMES.length) break;
      }
      expect(Object.keys(env).sort()).toEqual(EXPORT_NAMES);
      expect(env.AWS_ENDPOINT_URL_FIREHOSE).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const client = new FirehoseClient({
        endpoint: env.AWS_ENDPOINT_URL_FIREHOSE,
        region: env.AWS_REGION,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
      });
      const now = Date.now() / 1000;
      const records = Array.from({ length: 30 }, (_, i) => ({
        Data: Buffer.from(
          JSON.stringify({
            event_uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
            created_at: now,
            event_name: 'notification:nope',
            event_specifics: {},
          }),
        ),
      }));
      const out = await client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: env.FIRELAKE_STREAM, Records: records }),
      );
      client.destroy();
      expect(out.FailedPutCount).toBe(0);

      // The buffers hold the records (5 s interval); SIGTERM must not lose them.
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lake = new FolderStore(join(dir, 'data', 'lake'));
      const quarantined = await readLines<{ reason: string }>(lake, 'quarantine/');
      expect(quarantined.map((q) => q.value.reason)).toEqual(Array(30).fill('unknown_event'));
      expect(stderr).toMatch(/SIGTERM: flushing/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('quotes export values a shell would split or expand', () => {
    expect(exportLines({ A: 'http://127.0.0.1:4573', B: "it's $HOME" })).toBe(
      "export A=http://127.0.0.1:4573\nexport B='it'\\''s $HOME'\n",
    );
  });

  it('refuses a bad --port with a message and a non-zero exit', async () => {
    const child = spawn(process.execPath, [...cliArgv(), 'serve', '--port', 'abc'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--port/);
    expect(stderr).toMatch(/TCP port/);
  });
});
