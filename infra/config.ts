import { AWS_DELIVERY } from '../lake/delivery.js';
import { FirelakeError } from '../lake/errors.js';
import { DEFAULT_DEDUP_TTL_HOURS, type TableId } from '../transform/tables.js';

// Everything a team tunes, typed, with the defaults a production deployment starts from.
// `resolveConfig` merges a partial config over the defaults and checks it once, so a bad value
// fails the synth with a message naming the setting instead of failing a deploy half-way.

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
    /** Events older than this (by arrival) are quarantined as `too_late`. */
    lateWindowDays: number;
    logRetentionDays: number;
  };
  delivery: {
    /** `direct-put`: producers call PutRecordBatch; `kinesis`: an on-demand Kinesis Data Stream in front. */
    source: 'direct-put' | 'kinesis';
    bufferSizeMiB: number;
    bufferIntervalSeconds: number;
    processorBufferSizeMiB: number;
    processorBufferIntervalSeconds: number;
    processorRetries: number;
    dynamicPartitioningRetrySeconds: number;
    /**
     * Firehose's RecordDeAggregation processor (JSON) before the transform: producers may pack
     * up to 500 newline-delimited events in one record, billed as one (README "Packed records").
     */
    recordDeaggregation: boolean;
    /** Kinesis source only: how long the stream keeps records (24-8760 h). */
    kinesisRetentionHours: number;
  };
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
    memoryMiB: number;
    ephemeralStorageMiB: number;
    timeoutMinutes: number;
    /** Days before yesterday re-checked for late staging objects. */
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

export const DEFAULT_CONFIG: FirelakeConfig = {
  namePrefix: 'firelake',
  removalPolicy: 'retain',
  lake: {
    stagingExpirationDays: 30,
    quarantineExpirationDays: 90,
    curatedTransitionDays: 90,
    curatedStorageClass: 'STANDARD_IA',
    accessLogsExpirationDays: 365,
  },
  tables: { billing: { mode: 'on-demand' }, pointInTimeRecovery: true },
  transform: {
    memoryMiB: 1024,
    // Firehose waits up to 5 minutes for an invocation; the SDK's retries must fit in it.
    timeoutSeconds: 120,
    reservedConcurrency: undefined,
    dedupTtlHours: DEFAULT_DEDUP_TTL_HOURS,
    lateWindowDays: 7,
    logRetentionDays: 30,
  },
  delivery: {
    source: 'direct-put',
    bufferSizeMiB: AWS_DELIVERY.buffering.sizeMiB,
    bufferIntervalSeconds: AWS_DELIVERY.buffering.intervalSeconds,
    processorBufferSizeMiB: AWS_DELIVERY.processor.bufferSizeMiB,
    processorBufferIntervalSeconds: AWS_DELIVERY.processor.bufferIntervalSeconds,
    processorRetries: AWS_DELIVERY.processor.retries,
    dynamicPartitioningRetrySeconds: AWS_DELIVERY.dynamicPartitioningRetrySeconds,
    recordDeaggregation: AWS_DELIVERY.deaggregation === 'JSON',
    kinesisRetentionHours: 24,
  },
  api: { enabled: false, auth: 'api-key', rateLimit: 500, burstLimit: 1000, dailyQuota: undefined },
  compaction: {
    time: '02:30',
    manifestDeadline: '06:00',
    memoryMiB: 10240,
    ephemeralStorageMiB: 10240,
    timeoutMinutes: 15,
    lateWindowDays: 7,
    retryAttempts: 2,
  },
  catalog: {
    languages: [
      'de',
      'en',
      'es',
      'fr',
      'it',
      'ja',
      'ko',
      'nl',
      'pl',
      'pt',
      'ru',
      'sv',
      'tr',
      'zh',
      'unknown',
    ],
    firstYear: 2025,
  },
  alarms: { email: undefined, dataFreshnessSeconds: 900 },
  metricsNamespace: 'Firelake',
};

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export class ConfigError extends FirelakeError {
  static override readonly code: string = 'CONFIG_INVALID';
  override name = 'FirelakeConfigError';
}

function merge<T>(base: T, over: DeepPartial<T> | undefined): T {
  if (over === undefined) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    const isPlain = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    // `billing` is a tagged union: replaced whole, never merged field by field.
    out[k] = isPlain(v) && isPlain(b) && k !== 'billing' ? merge(b, v as never) : v;
  }
  return out as T;
}

/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const NAME = /^[a-z][a-z0-9-]{1,30}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Hours and minutes of an `HH:MM` time, checked earlier by resolveConfig. */
export function hourMinute(text: string): { hour: number; minute: number } {
  const m = HHMM.exec(text);
  if (!m) throw new ConfigError(`"${text}" is not a time of day: expected HH:MM (UTC), e.g. 02:30`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** The defaults with `overrides` on top, checked; throws one ConfigError listing every problem. */
export function resolveConfig(overrides: DeepPartial<FirelakeConfig> = {}): FirelakeConfig {
  const c = merge(DEFAULT_CONFIG, overrides);
  const problems: string[] = [];
  const int = (name: string, v: number | undefined, min: number, max: number) => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name} = ${v}: expected ${min}..${max}`);
  };
  const num = (name: string, v: number, min: number, max: number) => {
    if (!Number.isFinite(v) || v < min || v > max) problems.push(`${name} = ${v}: expected ${min}..${max}`);
  };

  if (!NAME.test(c.namePrefix)) {
    problems.push(`namePrefix "${c.namePrefix}": lower-case letters, digits and -, 2-31 characters`);
  }
  if (c.removalPolicy !== 'retain' && c.removalPolicy !== 'destroy') {
    problems.push(`removalPolicy "${c.removalPolicy}": expected retain or destroy`);
  }
  int('lake.stagingExpirationDays', c.lake.stagingExpirationDays, 1, 3650);
  int('lake.quarantineExpirationDays', c.lake.quarantineExpirationDays, 1, 3650);
  int('lake.curatedTransitionDays', c.lake.curatedTransitionDays, 30, 3650);
  int('lake.accessLogsExpirationDays', c.lake.accessLogsExpirationDays, 1, 3650);
  // Compaction re-reads staging for the late window; expiring it sooner would lose late events.
  if (c.lake.stagingExpirationDays <= c.compaction.lateWindowDays + 1) {
    problems.push(
      `lake.stagingExpirationDays = ${c.lake.stagingExpirationDays} must exceed compaction.lateWindowDays + 1 ` +
        `(${c.compaction.lateWindowDays + 1}): staging must outlive the nightly re-check of late days`,
    );
  }
  // A late event the transform stages lands under its event-time day; the nightly run must still
  // re-check that day, or the event never reaches curated.
  if (c.transform.lateWindowDays > c.compaction.lateWindowDays) {
    problems.push(
      `transform.lateWindowDays = ${c.transform.lateWindowDays} must not exceed compaction.lateWindowDays = ` +
        `${c.compaction.lateWindowDays}: staged late events would never be compacted`,
    );
  }
  if (c.tables.billing.mode === 'provisioned') {
    const b = c.tables.billing;
    int('tables.billing.minRead', b.minRead, 1, 40000);
    int('tables.billing.maxRead', b.maxRead, b.minRead, 40000);
    int('tables.billing.minWrite', b.minWrite, 1, 40000);
    int('tables.billing.maxWrite', b.maxWrite, b.minWrite, 40000);
    num('tables.billing.targetUtilization', b.targetUtilization, 20, 90);
    for (const [table, own] of Object.entries(b.perTable ?? {})) {
      if (!['dedup', 'users', 'subscriptions'].includes(table)) {
        problems.push(`tables.billing.perTable.${table}: no such table (dedup, users, subscriptions)`);
        continue;
      }
      const cap = capacityOf(b, table as TableId);
      const at = `tables.billing.perTable.${table}`;
      if (own) {
        int(`${at}.minRead`, own.minRead, 1, 40000);
        int(`${at}.maxRead`, cap.maxRead, cap.minRead, 40000);
        int(`${at}.minWrite`, own.minWrite, 1, 40000);
        int(`${at}.maxWrite`, cap.maxWrite, cap.minWrite, 40000);
      }
    }
  } else if (c.tables.billing.mode !== 'on-demand') {
    problems.push(`tables.billing.mode: expected on-demand or provisioned`);
  }
  int('transform.memoryMiB', c.transform.memoryMiB, 128, 10240);
  int('transform.timeoutSeconds', c.transform.timeoutSeconds, 10, 300);
  int('transform.reservedConcurrency', c.transform.reservedConcurrency, 1, 10000);
  num('transform.dedupTtlHours', c.transform.dedupTtlHours, 1, 24 * 365);
  int('transform.lateWindowDays', c.transform.lateWindowDays, 1, 365);
  if (!LOG_RETENTION_DAYS.includes(c.transform.logRetentionDays)) {
    problems.push(
      `transform.logRetentionDays = ${c.transform.logRetentionDays}: one of ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  }
  if (c.delivery.source !== 'direct-put' && c.delivery.source !== 'kinesis') {
    problems.push(`delivery.source "${c.delivery.source}": expected direct-put or kinesis`);
  }
  // Firehose's limits with dynamic partitioning (docs/firehose.md).
  int('delivery.bufferSizeMiB', c.delivery.bufferSizeMiB, 64, 128);
  int('delivery.bufferIntervalSeconds', c.delivery.bufferIntervalSeconds, 60, 900);
  num('delivery.processorBufferSizeMiB', c.delivery.processorBufferSizeMiB, 0.2, 3);
  int('delivery.processorBufferIntervalSeconds', c.delivery.processorBufferIntervalSeconds, 0, 900);
  int('delivery.processorRetries', c.delivery.processorRetries, 0, 300);
  int('delivery.dynamicPartitioningRetrySeconds', c.delivery.dynamicPartitioningRetrySeconds, 0, 7200);
  int('delivery.kinesisRetentionHours', c.delivery.kinesisRetentionHours, 24, 8760);
  if (c.api.auth !== 'api-key' && c.api.auth !== 'iam') {
    problems.push(`api.auth "${c.api.auth}": expected api-key or iam`);
  }
  int('api.rateLimit', c.api.rateLimit, 1, 10000);
  int('api.burstLimit', c.api.burstLimit, 1, 5000);
  int('api.dailyQuota', c.api.dailyQuota, 1, 1_000_000_000);
  for (const [name, value] of [
    ['compaction.time', c.compaction.time],
    ['compaction.manifestDeadline', c.compaction.manifestDeadline],
  ] as const) {
    if (!HHMM.test(value)) problems.push(`${name} "${value}": expected HH:MM (UTC), e.g. 02:30`);
  }
  int('compaction.memoryMiB', c.compaction.memoryMiB, 1024, 10240);
  int('compaction.ephemeralStorageMiB', c.compaction.ephemeralStorageMiB, 512, 10240);
  int('compaction.timeoutMinutes', c.compaction.timeoutMinutes, 1, 15);
  int('compaction.lateWindowDays', c.compaction.lateWindowDays, 0, 60);
  int('compaction.retryAttempts', c.compaction.retryAttempts, 0, 185);
  if (c.catalog.languages.length === 0 || c.catalog.languages.some((l) => !/^[A-Za-z0-9_-]+$/.test(l))) {
    problems.push('catalog.languages: a non-empty list of language codes (letters, digits, _ and -)');
  }
  int('catalog.firstYear', c.catalog.firstYear, 2000, 2100);
  if (c.alarms.email !== undefined && !EMAIL.test(c.alarms.email)) {
    problems.push(`alarms.email "${c.alarms.email}" is not an e-mail address`);
  }
  int('alarms.dataFreshnessSeconds', c.alarms.dataFreshnessSeconds, 60, 86400);
  if (!/^[A-Za-z0-9/_.#:-]{1,255}$/.test(c.metricsNamespace)) {
    problems.push(`metricsNamespace "${c.metricsNamespace}" is not a CloudWatch namespace`);
  }
  if (problems.length > 0) throw new ConfigError(`Firelake configuration: ${problems.join('; ')}`);
  return c;
}

/**
 * Starting points, chosen with `-c firelake:profile=<name>` (or `firelake cost --profile`);
 * other context settings apply on top of the profile.
 *
 * `recommended-1m`: the configuration for about 1M events/hour that `firelake cost` puts at or
 * under $0.36 per million events all-in (README "Monthly cost"), with dedup and enrichment.
 * Why each setting, and how it still takes the seeds' 5x spike without losing data:
 * - Provisioned tables with autoscaling (target 85%). Each floor is the table's steady load at
 *   1M/h divided by the target (dedup: a write per event, 278/s -> 330 WCU; users and
 *   subscriptions: 20 and 5 state writes/s, and 0.38 strongly consistent reads per event
 *   between them, measured on generated 1 MiB batches), so the pipeline never runs below what
 *   it needs; each maximum is above 5x the steady load, so autoscaling can follow the spike.
 * - The spike's first minutes, before autoscaling has raised capacity: DynamoDB's burst capacity
 *   (up to 300 s of unused capacity) takes the first of it; throttled writes are retried by the
 *   SDK (4 attempts, backoff), then the invocation fails and Firehose retries it (10 retries
 *   here instead of 3); the dedup markers make every retry safe. Whatever still fails lands in
 *   errors/processing-failed/ with its bytes (replayable): nothing is lost, and the alarms say
 *   so (DynamoDB throttle events per table, transform errors, ProcessingFailed, data freshness).
 * - No point-in-time recovery on the dedup table (its markers matter only for the dedup window;
 *   the state tables keep it): -$0.20 per GB-month of markers.
 */
export const PROFILES: Record<string, DeepPartial<FirelakeConfig>> = {
  default: {},
  'recommended-1m': {
    tables: {
      billing: {
        mode: 'provisioned',
        targetUtilization: 85,
        minRead: 5,
        maxRead: 100,
        minWrite: 5,
        maxWrite: 100,
        perTable: {
          dedup: { minWrite: 330, maxWrite: 2000, minRead: 5, maxRead: 100 },
          users: { minWrite: 25, maxWrite: 250, minRead: 65, maxRead: 500 },
          subscriptions: { minWrite: 10, maxWrite: 100, minRead: 65, maxRead: 500 },
        },
      },
      pointInTimeRecovery: true,
      dedupPointInTimeRecovery: false,
    },
    delivery: { processorRetries: 10, recordDeaggregation: true },
  },
};

export function profileConfig(name: string): DeepPartial<FirelakeConfig> {
  const profile = PROFILES[name];
  if (!profile) {
    throw new ConfigError(`no configuration profile "${name}": one of ${Object.keys(PROFILES).join(', ')}`);
  }
  return profile;
}

/**
 * The overrides given as CDK context (`cdk.json` or `-c firelake:key=value`): the common
 * settings by flat name. Values from the command line are strings; from cdk.json, JSON values.
 */
export function configFromContext(get: (key: string) => unknown): DeepPartial<FirelakeConfig> {
  const str = (key: string): string | undefined => {
    const v = get(`firelake:${key}`);
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  const nr = (key: string): number | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ConfigError(`context firelake:${key} = "${v}" is not a number`);
    return n;
  };
  const bool = (key: string): boolean | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') {
      throw new ConfigError(`context firelake:${key} = "${v}": expected true or false`);
    }
    return v === 'true';
  };
  const profile = profileConfig(str('profile') ?? 'default');
  const billing = str('tableBilling');
  if (billing !== undefined && billing !== 'on-demand' && billing !== 'provisioned') {
    throw new ConfigError(`context firelake:tableBilling = "${billing}": expected on-demand or provisioned`);
  }
  const overrides: DeepPartial<FirelakeConfig> = {
    namePrefix: str('namePrefix'),
    removalPolicy: str('removalPolicy') as FirelakeConfig['removalPolicy'] | undefined,
    lake: {
      stagingExpirationDays: nr('stagingExpirationDays'),
      quarantineExpirationDays: nr('quarantineExpirationDays'),
    },
    tables: {
      billing:
        billing === 'provisioned'
          ? {
              mode: 'provisioned',
              minRead: nr('tableMinRead') ?? 5,
              maxRead: nr('tableMaxRead') ?? 500,
              minWrite: nr('tableMinWrite') ?? 5,
              maxWrite: nr('tableMaxWrite') ?? 500,
              targetUtilization: nr('tableTargetUtilization') ?? 70,
            }
          : billing === 'on-demand'
            ? { mode: 'on-demand' }
            : undefined,
    },
    transform: { reservedConcurrency: nr('transformReservedConcurrency') },
    delivery: { source: str('source') as FirelakeConfig['delivery']['source'] | undefined },
    api: { enabled: bool('api'), auth: str('apiAuth') as FirelakeConfig['api']['auth'] | undefined },
    compaction: {
      time: str('compactionTime'),
      manifestDeadline: str('manifestDeadline'),
      memoryMiB: nr('compactionMemoryMiB'),
    },
    alarms: { email: str('alarmEmail') },
  };
  return merge(profile as FirelakeConfig, overrides) as DeepPartial<FirelakeConfig>;
}
