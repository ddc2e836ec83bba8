import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DEFAULT_DELIVERY_SETTINGS,
  type DeliverySettings,
  type DeliveryStreamConfig,
  deliveryStreamConfig,
} from '../lake/delivery.js';
import { openLake } from '../lake/open.js';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_REGION,
  lakeIn,
  resolveSettings,
  type SharedSettings,
} from '../lake/settings.js';
import type { ObjectStore } from '../lake/store.js';
import type { TransformConfig } from '../transform/config.js';
import { type BatchCounts, countingSink } from '../transform/metrics.js';
import { DEFAULT_TABLE_NAMES, type TableNames } from '../transform/tables.js';
import { createTransform } from '../transform/transform.js';
import { type DeliveredObject, DeliveryStream, type TransformFunction } from './delivery-stream.js';
import { localDynamoDbClient } from './dynamo-client.js';
import { busyHint, createTables, DynaliteStartError, type LocalDynamo, startDynalite } from './dynamodb.js';
import { type FirehoseServer, startFirehoseServer } from './firehose-server.js';
import { type WalMode, WriteAheadLog } from './wal.js';

// The embedded default: DynamoDB (dynalite), the local Firehose endpoint with its delivery
// stream, the real transform in-process, and the lake; started together, stopped together.

export const LOCAL_REGION = DEFAULT_REGION;

export interface LocalPipelineOptions {
  /** DynamoDB under `<dataDir>/dynamodb`, the lake under `<dataDir>/lake` unless `lake` is given. */
  dataDir?: string;
  /** Keep DynamoDB in memory instead of `<dataDir>/dynamodb` (tests, benchmarks). */
  inMemoryDynamo?: boolean;
  /** Run dynalite in a child process, on another core than the transform (default true). */
  separateDynamoProcess?: boolean;
  /** `--lake` value or an open store. */
  lake?: string | ObjectStore;
  host?: string;
  /** Firehose endpoint port; 0 picks a free one. */
  port?: number;
  /**
   * A deployment's delivery settings (infra/config.ts `delivery`): the local stream runs them with
   * local buffers (lake/delivery.ts). `firelake serve` and `npm start` pass cdk.json's.
   */
  deliverySettings?: DeliverySettings;
  /** The stream's whole configuration instead (tests tune its buffers). */
  delivery?: DeliveryStreamConfig;
  tableNames?: TableNames;
  /** The transform to run; the real one (transform/) by default. */
  transform?: TransformFunction;
  /**
   * The shared settings (lake/settings.ts) over their defaults, checked by the rules every path
   * checks before anything starts: `firelake serve` and `npm start` pass what FIRELAKE_* set.
   */
  settings?: Partial<SharedSettings>;
  /** Transform settings beyond the table names and the shared settings (skew, concurrency). */
  transformConfig?: Partial<Omit<TransformConfig, 'tables'>>;
  maxBacklogBytes?: number;
  maxConcurrentInvocations?: number;
  /**
   * The write-ahead log in `<dataDir>/firehose` (wal.ts): 'fsync' (default with a persisted
   * DynamoDB), 'write' (survives a process crash, not a power loss) or 'off' (default with
   * `inMemoryDynamo`, whose dedup state would not survive a restart either).
   */
  wal?: WalMode;
  log?: (line: string) => void;
  onObject?: (object: DeliveredObject) => void;
}

export interface LocalPipeline {
  firehoseEndpoint: string;
  dynamodbEndpoint: string;
  /** dynalite's process id when it runs in its own process. */
  dynamodbPid?: number;
  region: string;
  streamName: string;
  store: ObjectStore;
  stream: DeliveryStream;
  /** What a producer needs, as environment variables (docs/design.md). */
  env: Record<string, string>;
  /** The write-ahead log, unless it is off. */
  wal?: WriteAheadLog;
  /** Records delivered again from the log at start. */
  recoveredRecords: number;
  /** The real transform's counts summed over its invocations (zero with an injected transform). */
  transformTotals(): BatchCounts;
  /** Everything buffered, through the transform, into the lake. */
  flush(): Promise<void>;
  /** Flushes, then stops the endpoint and DynamoDB. */
  close(): Promise<void>;
}

export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const log = options.log ?? (() => {});
  const settings = resolveSettings(options.settings);
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const delivery =
    options.delivery ??
    deliveryStreamConfig(options.deliverySettings ?? DEFAULT_DELIVERY_SETTINGS, { runtime: 'local' });
  const tables = options.tableNames ?? DEFAULT_TABLE_NAMES;
  const store =
    typeof options.lake === 'object' ? options.lake : await openLake(options.lake ?? lakeIn(dataDir));

  // The in-process SDK clients reach dynalite through the SDK's own endpoint variable, as the
  // Lambda would; dummy credentials only when none are set (dynalite accepts any).
  process.env.AWS_REGION ??= LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const region = process.env.AWS_REGION;

  const dynamoPath = options.inMemoryDynamo ? undefined : join(dataDir, 'dynamodb');
  // The transform's client reaches dynalite over a Unix socket (local/dynamo-client.ts).
  const dynamo: LocalDynamo = await startDynalite({
    path: dynamoPath,
    separateProcess: options.separateDynamoProcess ?? true,
    unixSocket: true,
  });
  let dynamodb: DynamoDBClient | undefined;
  let server: FirehoseServer | undefined;
  try {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
    dynamodb = localDynamoDbClient({ region, socketPath: dynamo.socketPath });
    await createTables(dynamodb, tables).catch((error: unknown) => {
      throw new DynaliteStartError(`DynamoDB (dynalite) did not answer${busyHint(dynamoPath)}`, {
        cause: error,
      });
    });
    log(`dynamodb: dynalite at ${dynamo.endpoint}${dynamoPath ? `, data in ${dynamoPath}` : ' (in memory)'}`);

    const walMode = options.wal ?? (options.inMemoryDynamo ? 'off' : 'fsync');
    const opened =
      walMode === 'off'
        ? undefined
        : WriteAheadLog.open({ dir: join(dataDir, 'firehose'), mode: walMode, log });
    const wal = opened?.wal;

    const counting = countingSink();
    const transform =
      options.transform ??
      createTransform({
        dynamodb,
        metrics: counting,
        config: {
          tables,
          dedupTtlHours: settings.dedupTtlHours,
          lateWindowDays: settings.transformLateWindowDays,
          ...options.transformConfig,
        },
      });
    const stream = new DeliveryStream({
      config: delivery,
      store,
      transform,
      region,
      // Producers hear "Slow down." once about 64 MiB wait (minutes of local throughput), rather
      // than the process growing without bound; two invocations in flight keep both cores busy
      // (transform + dynalite) without stretching every batch's latency.
      maxBacklogBytes: options.maxBacklogBytes ?? 64 * 1024 * 1024,
      maxConcurrentInvocations: options.maxConcurrentInvocations ?? 2,
      log,
      onObject: options.onObject,
      journal: wal,
    });
    // What an earlier run acknowledged but did not deliver (a crash): delivered first.
    const recovered = opened?.recovered ?? [];
    if (recovered.length > 0) {
      log(
        `firehose: delivering ${recovered.length} records that the write-ahead log in ${wal!.dir} kept from an earlier run`,
      );
      stream.putRecovered(recovered);
    }
    server = await startFirehoseServer({
      streams: [stream],
      host: options.host,
      port: options.port ?? 0,
      lakeLocation: store.location,
      log,
    });
    log(`firehose: stream ${stream.name} at ${server.endpoint}, lake at ${store.location}`);

    const firehose = server;
    const client = dynamodb;
    let closing: Promise<void> | undefined;
    return {
      firehoseEndpoint: firehose.endpoint,
      dynamodbEndpoint: dynamo.endpoint,
      dynamodbPid: dynamo.pid,
      region,
      streamName: stream.name,
      store,
      stream,
      wal,
      recoveredRecords: recovered.length,
      env: {
        AWS_ENDPOINT_URL_FIREHOSE: firehose.endpoint,
        AWS_REGION: region,
        // botocore and the AWS CLI read the region from AWS_DEFAULT_REGION.
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        FIRELAKE_STREAM: stream.name,
      },
      transformTotals: () => counting.totals,
      flush: () => stream.flush(),
      close: () => {
        closing ??= (async () => {
          // Stop the endpoint (requests in flight are answered, their records logged), drain
          // every buffer through the transform into the lake, delete the delivered log, and
          // only then stop DynamoDB, which the transform needs until the last batch.
          await firehose.close();
          await stream.close();
          await wal?.close();
          client.destroy();
          await dynamo.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await server?.close();
    dynamodb?.destroy();
    await dynamo.close();
    throw error;
  }
}
