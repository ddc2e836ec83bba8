import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { entryBeside } from '../lake/entry.js';
import { FirelakeError } from '../lake/errors.js';
import { DEFAULT_TABLE_NAMES, TABLES, type TableId, type TableNames } from '../transform/tables.js';
import { cacheConditionParses } from './dynalite-parse-cache.js';

export interface LocalDynamo {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_DYNAMODB. */
  endpoint: string;
  /** The child process running dynalite, when it runs in one (for CPU accounting). */
  pid?: number;
  /** The Unix socket it also listens on, when asked for one (local/dynamo-client.ts). */
  socketPath?: string;
  close(): Promise<void>;
}

export interface DynaliteOptions {
  /** LevelDB folder; in memory without. */
  path?: string;
  port?: number;
  /** In a child process of its own (its CPU on another core). */
  separateProcess?: boolean;
  /** Also listen on a Unix socket, its folder made and removed by dynalite's process. */
  unixSocket?: boolean;
}

/**
 * Starts dynalite (DynamoDB on LevelDB) on loopback: persisted under `path`, or in memory when
 * no path is given. Port 0 picks a free port.
 */
export async function startDynalite(options: DynaliteOptions = {}): Promise<LocalDynamo> {
  if (options.separateProcess) return startDynaliteProcessRetrying(options);
  if (options.path) mkdirSync(options.path, { recursive: true });
  cacheConditionParses();
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // The socket in a folder of its own under the temp dir (a socket path must stay under ~100
  // bytes), removed on close; none on Windows (its pipes are named otherwise).
  const socketDir =
    options.unixSocket && process.platform !== 'win32'
      ? mkdtempSync(join(tmpdir(), 'firelake-dynalite-'))
      : undefined;
  const socketPath = socketDir && join(socketDir, 'dynalite.sock');
  const unix = socketPath ? await listenOnSocket(server, socketPath) : undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    socketPath,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
      await new Promise<void>((resolve) => (unix ? unix.close(() => resolve()) : resolve()));
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/** The same HTTP server on a Unix socket too: each connection is handed to it as its own. */
async function listenOnSocket(server: ReturnType<typeof dynalite>, path: string): Promise<NetServer> {
  const unix = createNetServer((socket) => server.emit('connection', socket));
  await new Promise<void>((resolve, reject) => {
    unix.once('error', reject);
    unix.listen(path, () => resolve());
  });
  return unix;
}

export class DynaliteStartError extends FirelakeError {
  static override readonly code: string = 'DYNALITE_START_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DynaliteStartError';
  }
}

/**
 * A previous process on the same data dir that was just killed may still hold LevelDB's lock
 * for a moment (its dynalite child exits when it sees the parent gone): retry for a few seconds.
 */
async function startDynaliteProcessRetrying(options: DynaliteOptions): Promise<LocalDynamo> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await startDynaliteProcess(options);
    } catch (error) {
      if (!options.path || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * dynalite in a child process (same options): its CPU is then on another core than the
 * caller's. The child exits when the parent does (IPC disconnect) or on close(). It runs in its
 * own process group, so a signal to the caller's whole group (Ctrl-C, `kill -- -PGID`, a
 * closed terminal) reaches only the caller, which flushes through DynamoDB before stopping it.
 */
async function startDynaliteProcess(options: DynaliteOptions): Promise<LocalDynamo> {
  const entry = entryBeside(import.meta.url, 'dynalite-process');
  const child = fork(
    entry.path,
    [JSON.stringify({ path: options.path, port: options.port, unixSocket: options.unixSocket })],
    {
      // A profiled parent (node --cpu-prof, `npm run bench local` with FIRELAKE_BENCH_CPU_PROF) profiles dynalite too.
      execArgv: [...entry.execArgv, ...process.execArgv.filter((a) => a.startsWith('--cpu-prof'))],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      detached: true,
    },
  );
  const { endpoint, socketPath } = await new Promise<{ endpoint: string; socketPath?: string }>(
    (resolve, reject) => {
      child.once('message', (m) => resolve(m as { endpoint: string; socketPath?: string }));
      child.once('error', (e) => reject(new DynaliteStartError('could not start dynalite', { cause: e })));
      child.once('exit', (code) =>
        reject(
          new DynaliteStartError(
            `dynalite exited (code ${code}) before it listened${busyHint(options.path)}`,
          ),
        ),
      );
    },
  );
  child.removeAllListeners('exit');
  return {
    endpoint,
    pid: child.pid,
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** What to check when a persisted dynalite does not come up: LevelDB allows one process. */
export function busyHint(path: string | undefined): string {
  return path ? `; is another firelake serve/start using ${path}?` : '';
}

/** Creates the three tables from the shared key definitions (on-demand); existing ones are kept. */
export async function createTables(
  client: DynamoDBClient,
  names: TableNames = DEFAULT_TABLE_NAMES,
): Promise<void> {
  for (const id of Object.keys(TABLES) as TableId[]) {
    const def = TABLES[id];
    const keys = [def.partitionKey, ...('sortKey' in def ? [def.sortKey] : [])];
    try {
      await client.send(
        new CreateTableCommand({
          TableName: names[id],
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
          KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: names[id] });
    if ('ttlAttribute' in def) {
      // dynalite accepts but does not enforce TTL; the dedup condition checks expires_at itself.
      await client
        .send(
          new UpdateTimeToLiveCommand({
            TableName: names[id],
            TimeToLiveSpecification: { Enabled: true, AttributeName: def.ttlAttribute },
          }),
        )
        .catch(() => undefined);
    }
  }
}
