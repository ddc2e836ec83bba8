import type { DeliverySettings } from '../lake/delivery.js';
import { FirelakeError } from '../lake/errors.js';
import type { TableId } from '../transform/tables.js';

// The shape of everything a team tunes (config-defaults.ts holds the values a deployment starts
// from, config.ts checks a config, config-profiles.ts and config-context.ts build overrides).

export type TableBilling =
  | { mode: 'on-demand' }
  | {
      mode: 'provisioned';
      /** Capacity units each table starts from and autoscaling never goes below. */
      minRead: number;
      maxRead: number;
      minWrite: number;
      maxWrite: number;
      /** Autoscaling target utilisation, percent. */
      targetUtilization: number;
      /**
       * Capacity of one table instead of the shared figures above: the dedup table takes a write
       * per event, the state tables a few percent of that.
       */
      perTable?: Partial<Record<TableId, TableCapacity>>;
    };

export interface TableCapacity {
  minRead?: number;
  maxRead?: number;
  minWrite?: number;
  maxWrite?: number;
}

/** A table's capacity range under provisioned billing: its perTable entry over the shared one. */
export function capacityOf(
  billing: Extract<TableBilling, { mode: 'provisioned' }>,
  table: TableId,
): Required<TableCapacity> {
  const own = billing.perTable?.[table] ?? {};
  return {
    minRead: own.minRead ?? billing.minRead,
    maxRead: own.maxRead ?? billing.maxRead,
    minWrite: own.minWrite ?? billing.minWrite,
    maxWrite: own.maxWrite ?? billing.maxWrite,
  };
}

export interface FirelakeConfig {
  /** Prefix of every physical name (stream, tables, functions, Glue database). */
  namePrefix: string;
  /** `retain` keeps the lake bucket and the tables when the stack is deleted (the default). */
  removalPolicy: 'retain' | 'destroy';
  lake: {
    /** Staging NDJSON expires this many days after delivery (must exceed the late window). */
    stagingExpirationDays: number;
    /** Quarantine and Firehose error objects expire this many days after delivery. */
    quarantineExpirationDays: number;
    /** Curated Parquet moves to `curatedStorageClass` this many days after it is written. */
    curatedTransitionDays: number;
    curatedStorageClass: 'STANDARD_IA' | 'INTELLIGENT_TIERING' | 'GLACIER_IR';
    /** Server access logs of the lake bucket expire after this many days. */
    accessLogsExpirationDays: number;
  };
  tables: {
    billing: TableBilling;
    pointInTimeRecovery: boolean;
    /**
     * Point-in-time recovery of the dedup table (default: as pointInTimeRecovery). Its markers
     * only matter inside the dedup window, and compaction drops any duplicate a lost table lets
     * through, so a restore would buy little; the state tables are the ones worth restoring.
     */
    dedupPointInTimeRecovery?: boolean;
  };
  transform: {
    memoryMiB: number;
    timeoutSeconds: number;
    /** Caps concurrent invocations (and so DynamoDB load); undefined = account pool. */
    reservedConcurrency?: number;
    dedupTtlHours: number;
    /** Events older than this (by arrival) are quarantined as `too_late` (at most compaction's; docs/settings.md). */
    lateWindowDays: number;
    logRetentionDays: number;
  };
  /** The delivery stream's settings; the stream both runtimes run is derived from them (lake/delivery.ts). */
  delivery: DeliverySettings;
  api: {
    /** An HTTP ingest API (API Gateway -> Firehose, no Lambda in the path). */
    enabled: boolean;
    auth: 'api-key' | 'iam';
    /** Steady-state requests per second and burst for the whole stage. */
    rateLimit: number;
    burstLimit: number;
    /** API key only: requests per day per key; undefined = no quota. */
    dailyQuota?: number;
  };
  compaction: {
    /** Nightly run time, `HH:MM` UTC. */
    time: string;
    /** Alarm when yesterday's manifest is still missing at this time, `HH:MM` UTC. */
    manifestDeadline: string;
    /** The nightly and fan-out compaction functions (default: a new account's 3,008 MB cap). */
    memoryMiB: number;
    ephemeralStorageMiB: number;
    timeoutMinutes: number;
    /**
     * Reserved concurrency of the by-hand compaction function; undefined = none. Not needed for
     * correctness: the table's conditional commit lets only one of two runs of a day publish
     * (compaction/publish.ts). A new account cannot reserve any (docs/deploy.md).
     */
    reservedConcurrency?: number;
    /** Units the fan-out's Distributed Map compacts at once: Lambda concurrency it may take. */
    maxConcurrency: number;
    /** Days before yesterday re-checked for late staging objects (at least the transform's; docs/settings.md). */
    lateWindowDays: number;
    /** Scheduler retries of a failed invocation before the event goes to the dead-letter queue. */
    retryAttempts: number;
  };
  catalog: {
    /** Known values of the curated `language` partition (partition projection enumerates them). */
    languages: string[];
    /** First year of the staging projection; later years up to the current one are included. */
    firstYear: number;
  };
  alarms: {
    /** E-mail address subscribed to the alarm topic (confirm the subscription mail). */
    email?: string;
    /** Alarm when the oldest undelivered record is older than this. */
    dataFreshnessSeconds: number;
  };
  /** CloudWatch namespace of the transform's EMF metrics. */
  metricsNamespace: string;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export class ConfigError extends FirelakeError {
  static override readonly code: string = 'CONFIG_INVALID';
  override name = 'FirelakeConfigError';
}

/** `over` on top of `base`, object by object; arrays and `billing` are replaced whole. */
export function mergeConfig<T>(base: T, over: DeepPartial<T> | undefined): T {
  if (over === undefined) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    const isPlain = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    // `billing` is a tagged union: replaced whole, never merged field by field.
    out[k] = isPlain(v) && isPlain(b) && k !== 'billing' ? mergeConfig(b, v as never) : v;
  }
  return out as T;
}
