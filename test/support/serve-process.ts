import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { generateRecords } from '../../generator/index.js';
import { cliArgv } from './compiled.js';

// `firelake serve` as a real process for stop and crash tests: started from the repository,
// configured from the export lines it prints, with its stderr kept for the assertions.

export interface ServeProcess {
  child: ChildProcess;
  /** The export lines, as variables. */
  env: Record<string, string>;
  stderr(): string;
  /** Exit code and signal; resolves once the process and everything holding its stderr ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Time of the stop request, for the exit time in `exited`. */
  markStop(): void;
}

export const EXPORT_NAMES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL_FIREHOSE',
  'AWS_REGION',
  'AWS_SECRET_ACCESS_KEY',
  'FIRELAKE_STREAM',
];

/**
 * Starts serve with `command` (default: node on the CLI, test/support/compiled.ts) on `dataDir`, port 0,
 * and waits for its export lines. `detached` gives it its own process group (pgid = pid).
 */
export async function startServe(
  dataDir: string,
  options: { command?: string[]; detached?: boolean; args?: string[] } = {},
): Promise<ServeProcess> {
  const command = options.command ?? [process.execPath, ...cliArgv()];
  const child = spawn(
    command[0]!,
    [...command.slice(1), 'serve', '--data-dir', dataDir, '--port', '0', ...(options.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  let stopAt = Date.now();
  // 'close' comes when every process holding the pipes has ended (dynalite's child inherits
  // stderr): a serve that leaves its DynamoDB orphaned never closes.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, ms: Date.now() - stopAt })),
  );
  const env: Record<string, string> = {};
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (!m) throw new Error(`serve printed "${line}" on stdout`);
    env[m[1]!] = m[2]!;
    if (Object.keys(env).length === EXPORT_NAMES.length) break;
  }
  if (Object.keys(env).length < EXPORT_NAMES.length) {
    throw new Error(`serve exited before its export lines: ${stderr}`);
  }
  return {
    child,
    env,
    stderr: () => stderr,
    exited,
    markStop: () => {
      stopAt = Date.now();
    },
  };
}

export function clientFor(env: Record<string, string>): FirehoseClient {
  return new FirehoseClient({
    endpoint: env.AWS_ENDPOINT_URL_FIREHOSE,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    maxAttempts: 1,
  });
}

/** Valid, distinct events of the simulated app, created in the last seconds, with their uuids. */
export function validEvents(count: number, seed: number): { data: Buffer; uuid: string }[] {
  const stream = generateRecords({
    seed,
    maxRecords: count,
    start: Date.now() - 10_000,
    ratePerSecond: 1000,
  });
  return [...stream].map((r) => {
    const text = String(r.data);
    return { data: Buffer.from(text), uuid: (JSON.parse(text) as { event_uuid: string }).event_uuid };
  });
}

/** Sends in batches of `batchSize`; returns the uuids acknowledged (no ErrorCode in the answer). */
export async function sendEvents(
  env: Record<string, string>,
  events: readonly { data: Buffer; uuid: string }[],
  batchSize = 100,
): Promise<string[]> {
  const client = clientFor(env);
  const acknowledged: string[] = [];
  try {
    for (let i = 0; i < events.length; i += batchSize) {
      const batch = events.slice(i, i + batchSize);
      const out = await client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: env.FIRELAKE_STREAM,
          Records: batch.map((e) => ({ Data: e.data })),
        }),
      );
      out.RequestResponses?.forEach((r, j) => {
        if (!r.ErrorCode) acknowledged.push(batch[j]!.uuid);
      });
    }
  } finally {
    client.destroy();
  }
  return acknowledged;
}
