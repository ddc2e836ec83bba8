import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATA_DIR, lakeIn } from '../lake/settings.js';
import { DEFAULT_FIREHOSE_PORT } from '../local/port.js';
import type { LocalPipeline } from '../local/runtime.js';
import type { StopWatch } from '../local/stop.js';
import { WAL_MODES, type WalMode } from '../local/wal.js';
import { cliSettings, settingsHelp } from './settings.js';

// `firelake serve`: the local Firehose endpoint and DynamoDB, long-running, for any producer
// that uses the AWS SDK. stdout carries only the `export` lines a producer needs.

export function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new InvalidArgumentError('Expected a TCP port from 0 to 65535 (0 picks a free one).');
  }
  return n;
}

interface ServeOptions {
  dataDir: string;
  lake?: string;
  port: number;
  host: string;
  livePort?: number;
  wal: WalMode;
}

export const serveCommand = new Command('serve')
  .description(
    'run the local Firehose endpoint and DynamoDB (dynalite) until SIGINT/SIGTERM/SIGHUP or the parent exits, which flush every buffer into the lake',
  )
  .option(
    '--data-dir <dir>',
    'local data: DynamoDB in <dir>/dynamodb, the lake in <dir>/lake',
    DEFAULT_DATA_DIR,
  )
  .option('--lake <lake>', 'lake folder or s3://bucket[/prefix] (default: <data-dir>/lake)')
  .option('--port <port>', 'Firehose endpoint port (0: any free port)', parsePort, DEFAULT_FIREHOSE_PORT)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option(
    '--live-port <port>',
    'live page port (default: --port + 1, or any free port with --port 0)',
    parsePort,
  )
  .addOption(
    new Option(
      '--wal <mode>',
      'write-ahead log in <data-dir>/firehose before each acknowledgement: fsync (survives a power loss), write (survives a crash of this process), off',
    )
      .choices(WAL_MODES)
      .default('fsync'),
  )
  .addHelpText('after', settingsHelp())
  .action(async (options: ServeOptions) => {
    const log = (line: string) => console.error(`[serve] ${line}`);
    const settings = cliSettings(process.env);
    const [
      { startLiveServer },
      { LiveStats },
      { startLocalPipeline },
      { watchForStop },
      { deploymentConfig },
    ] = await Promise.all([
      import('../local/live/server.js'),
      import('../local/live/stats.js'),
      import('../local/runtime.js'),
      import('../local/stop.js'),
      import('../infra/config.js'),
    ]);
    const live = new LiveStats();
    // Watched from the start: a stop while DynamoDB starts or the log is recovered still flushes.
    const stop = watchForStop({ log });
    const pipeline = await startLocalPipeline({
      dataDir: options.dataDir,
      lake: options.lake ?? lakeIn(options.dataDir),
      port: options.port,
      host: options.host,
      wal: options.wal,
      settings,
      // The stack's delivery settings (cdk.json's profile and context), with local buffers.
      deliverySettings: deploymentConfig().delivery,
      log,
      onObject: live.onObject,
    });
    live.attach(pipeline);
    const livePort =
      options.livePort ?? (options.port === 0 || options.port === 65_535 ? 0 : options.port + 1);
    const liveServer = await startLiveServer(live, { host: options.host, port: livePort }).catch(
      async (error: unknown) => {
        await pipeline.close();
        throw new Error(`live page: cannot listen on port ${livePort} (--live-port to choose another)`, {
          cause: error,
        });
      },
    );
    process.stdout.write(exportLines(pipeline.env));
    log(`live page: ${liveServer.url} (records in and out, backlog, latency, quarantine, last events)`);
    log(`ready: paste the export lines above into a producer's shell; Ctrl-C flushes and stops`);
    try {
      await serveUntilSignal(pipeline, stop, log);
    } finally {
      live.stop();
      await liveServer.close();
    }
    stop.dispose();
    // Nothing else to wait for: a producer's open socket or a timer must not keep the process.
    process.exit(0);
  });

/** `export NAME=value` lines, shell-quoted where needed. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${/^[\w.:/@-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`}\n`)
    .join('');
}

async function serveUntilSignal(
  pipeline: LocalPipeline,
  stop: StopWatch,
  log: (line: string) => void,
): Promise<void> {
  const stats = () => pipeline.stream.stats();
  let last = '';
  const ticker = setInterval(() => {
    const s = stats();
    const line = `received ${s.incomingRecords} records (${s.throttledRecords} throttled); ${s.okRecords} ok, ${s.droppedRecords} dropped, ${s.failedRecords} to errors/; ${s.dataObjects + s.errorObjects} objects written; backlog ${(s.backlogBytes / 1024).toFixed(0)} KiB`;
    if (line !== last) log(line);
    last = line;
  }, 10_000);

  const reason = await stop.requested;
  clearInterval(ticker);
  await pipeline.close();
  const s = stats();
  log(
    `${reason}: flushed ${s.incomingRecords} records received, ${s.okRecords} ok, ${s.failedRecords} to errors/, ${s.dataObjects} data objects; bye`,
  );
}
