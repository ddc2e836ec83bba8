import { LATE_MAX_MS, LATE_MIN_MS } from '../generator/world-model.js';
import { billedBytes, FIREHOSE_LIMITS } from '../lake/delivery.js';
import { PRICES, type PriceId, type PriceTable } from './prices.js';
import type { CapacityRange, CostSettings, FunctionSettings } from './template.js';

// The monthly bill of a deployed configuration (read from its template, cost/template.ts) at a
// traffic. Every line says what it counts; the figures behind the pipeline's behaviour are in
// WORKLOAD, each with where it was measured. A month is 730 hours, as AWS's calculator counts.

export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
const GB = 1e9;
/** Firehose rounds each record up to 5 KB (5,120 bytes) for ingestion. */

export interface Traffic {
  eventsPerSecond: number;
  /** Average event size in bytes (JSON, one line). */
  eventBytes: number;
  /** Producers pack events into records of at most this many bytes; 'off': one event per record. */
  pack: number | 'off';
  /** Share of events hours late: staged on their day's late shelf, one more object per late day and buffer. */
  lateShare: number;
  /** Months of curated Parquet kept: the bill of month N of operation. */
  months: number;
}

/** What the pipeline does per event, measured (see each note); the model scales them. */
export const WORKLOAD = {
  /** The app's mix (20 user and 5 subscription events/s out of 277.8/s): state writes. */
  usersWritesPerEvent: 20 / (1_000_000 / 3600),
  subscriptionsWritesPerEvent: 5 / (1_000_000 / 3600),
  /**
   * Strongly consistent reads (1 RCU each, items under 4 KB): each user and subscription key
   * of the batch's lessons once per batch; measured over 333,334 generated events cut into
   * 1 MiB processor batches: 0.182 (users) and 0.200 (subscriptions) per event.
   */
  usersReadsPerEvent: 0.182,
  subscriptionsReadsPerEvent: 0.2,
  /** Markers read back after a failed condition: the duplicates and conflicts, about 1%. */
  dedupReadsPerEvent: 0.011,
  /**
   * A dedup marker: five attributes (uuid, record_id, fingerprint, delivery_key, expires_at),
   * about 210 bytes, plus DynamoDB's 100 bytes of item overhead. Under 1 KB: one write unit.
   */
  dedupMarkerBytes: 310,
  /** State items (users, subscriptions): a few hundred thousand small items, taken as 1 GB. */
  stateTablesGB: 1,
  /**
   * A staged line is the event plus the transform's columns: 4,000 generator records through the
   * transform (bench/transform-records.ts) staged 357 B events as 618 B lines (2026-11-28).
   */
  stagedLineExtraBytes: 261,
  /** Gzip staging bytes per staged line (compaction bench: 553 MiB for 6,060,446 lines). */
  stagingGzipBytesPerEvent: 96,
  /** Curated zstd Parquet per row (compaction bench: 515 MiB for 6,000,120 rows). */
  curatedBytesPerEvent: 90,
  /**
   * Transform run time: a fixed part per invocation plus DynamoDB round trips per event
   * (32 conditional writes in flight at about 8 ms each), an assumption, not a measurement in AWS.
   */
  transformFixedSeconds: 0.05,
  transformSecondsPerEvent: 0.00025,
  /** Compaction CPU seconds per million events (compaction bench, 6 hours: 75 s / 6.06M). */
  compactionSecondsPerMillion: 12.6,
  /** The transform's EMF metrics: 12 counts plus QuarantinedByReason for 8 reasons; the manifest check's. */
  customMetrics: 21,
  /** Log bytes per transform invocation: the EMF line and the summary line. */
  transformLogBytesPerInvocation: 2_000,
  /** Minute partitions one 60 s buffer window of current traffic touches: two minutes + quarantine. */
  partitionsPerWindow: 3,
  /**
   * UTC days a late event may fall in (the generator's 1-72 hours back spans up to 4): each
   * day's late shelf (lake/layout.ts) is one object per buffer, however many late events it takes.
   */
  lateDays: Math.ceil((LATE_MAX_MS - LATE_MIN_MS) / (24 * 3_600_000)) + 1,
  /** Events per request on the ingest API's batch endpoint (its maximum). */
  apiEventsPerRequest: 500,
} as const;

export interface CostLine {
  service: string;
  item: string;
  /** How it is counted, with the quantities. */
  detail: string;
  monthly: number;
}

export interface CostEstimate {
  region: string;
  pricesChecked: string;
  traffic: Traffic;
  eventsPerMonth: number;
  /** Firehose records per month and events per record (after packing). */
  recordsPerMonth: number;
  eventsPerRecord: number;
  /** Bytes Firehose bills per event (5 KB steps spread over the record's events). */
  billedBytesPerEvent: number;
  lines: CostLine[];
  total: number;
  perMillionEvents: number;
  /** Settings that cannot carry the traffic (e.g. a capacity ceiling under the steady load). */
  warnings: string[];
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Events per Firehose record and the record's size, when producers pack to `pack` bytes. */
export function packing(
  eventBytes: number,
  pack: number | 'off',
): { eventsPerRecord: number; recordBytes: number } {
  if (pack === 'off') return { eventsPerRecord: 1, recordBytes: eventBytes };
  // Newline-delimited: n events take n * bytes + (n - 1) newlines.
  const fit = Math.floor((Math.min(pack, FIREHOSE_LIMITS.maxRecordBytes) + 1) / (eventBytes + 1));
  const eventsPerRecord = Math.max(1, Math.min(FIREHOSE_LIMITS.maxSubRecordsPerRecord, fit));
  return { eventsPerRecord, recordBytes: eventsPerRecord * (eventBytes + 1) - 1 };
}

export function estimateCost(
  settings: CostSettings,
  traffic: Traffic,
  prices: PriceTable = PRICES,
): CostEstimate {
  const price = (id: PriceId) => prices.prices[id].usd;
  const w = WORKLOAD;
  const lines: CostLine[] = [];
  const warnings: string[] = [];
  const add = (service: string, item: string, detail: string, monthly: number) =>
    lines.push({ service, item, detail, monthly });

  const eps = traffic.eventsPerSecond;
  const events = eps * SECONDS_PER_MONTH;
  const usedPack = settings.delivery.deaggregation ? traffic.pack : 'off';
  if (traffic.pack !== 'off' && !settings.delivery.deaggregation) {
    warnings.push(
      'the stream has no RecordDeAggregation processor: packed records would reach the transform whole; counted unpacked',
    );
  }
  const { eventsPerRecord, recordBytes } = packing(traffic.eventBytes, usedPack);
  const records = events / eventsPerRecord;
  const billedRecordBytes = billedBytes(recordBytes);

  // Source
  if (settings.delivery.source === 'kinesis') {
    const kb = Math.ceil(recordBytes / 1024);
    add(
      'Kinesis Data Streams',
      'on-demand stream',
      `${HOURS_PER_MONTH} stream-hours; ${fmt(records)} records x ${kb} KB in; ${fmt((events * traffic.eventBytes) / GB, 1)} GB read by Firehose`,
      HOURS_PER_MONTH * price('kinesis.onDemandStreamHour') +
        ((records * kb * 1024) / GB) * price('kinesis.onDemandIngestGB') +
        ((events * traffic.eventBytes) / GB) * price('kinesis.onDemandRetrieveGB'),
    );
  }
  if (settings.api) {
    const requests = events / w.apiEventsPerRequest;
    add(
      'API Gateway',
      'ingest API requests',
      `${fmt(requests)} requests of ${w.apiEventsPerRequest} events`,
      (requests / 1e6) * price('apigateway.rest1M'),
    );
  }

  // Firehose
  let firehoseObjects = 0;
  const ingestGB = (records * billedRecordBytes) / GB;
  add(
    'Firehose',
    'ingestion',
    `${fmt(records)} records of ${eventsPerRecord} event(s), ${fmt(recordBytes)} B each, billed as ${billedRecordBytes / 1024} KB: ${fmt(ingestGB, 1)} GB`,
    ingestGB * price('firehose.ingestGB'),
  );
  if (settings.delivery.dynamicPartitioning) {
    const stagedGB = (events * (traffic.eventBytes + w.stagedLineExtraBytes)) / GB;
    const windowSeconds = settings.delivery.bufferIntervalSeconds;
    const windows = SECONDS_PER_MONTH / windowSeconds;
    const lateEventsPerWindow = eps * traffic.lateShare * windowSeconds;
    // Late events land on their day's shelf: the distinct late days a window's late events touch.
    const latePartitions = w.lateDays * (1 - Math.exp(-lateEventsPerWindow / w.lateDays));
    const bySize =
      (eps * (traffic.eventBytes + w.stagedLineExtraBytes) * windowSeconds) /
      (settings.delivery.bufferSizeMiB * 1024 * 1024);
    const objects = windows * (Math.max(w.partitionsPerWindow, Math.ceil(bySize)) + latePartitions);
    firehoseObjects = objects;
    add(
      'Firehose',
      'dynamic partitioning',
      `${fmt(stagedGB, 1)} GB delivered; ${fmt(objects)} objects (${fmt(w.partitionsPerWindow + latePartitions, 1)} partitions per ${windowSeconds} s buffer)`,
      stagedGB * price('firehose.partitionedGB') + (objects / 1000) * price('firehose.partitionedObjects1k'),
    );
  }

  // Transform Lambda
  const processorBytes = settings.delivery.processorBufferSizeMiB * 1024 * 1024;
  const eventsPerInvocation = Math.max(
    1,
    Math.min(
      processorBytes / traffic.eventBytes,
      eps * Math.max(1, settings.delivery.processorBufferIntervalSeconds),
    ),
  );
  const invocations = events / eventsPerInvocation;
  const seconds = w.transformFixedSeconds + eventsPerInvocation * w.transformSecondsPerEvent;
  add(
    'Lambda',
    'transform',
    `${fmt(invocations)} invocations of ${fmt(eventsPerInvocation)} events, ~${seconds.toFixed(2)} s at ${settings.transform.memoryMiB} MB ${settings.transform.architecture}`,
    lambdaCost(settings.transform, invocations, seconds, price),
  );

  // DynamoDB
  const hours = HOURS_PER_MONTH;
  const load = {
    dedup: { write: eps, read: eps * w.dedupReadsPerEvent },
    users: { write: eps * w.usersWritesPerEvent, read: eps * w.usersReadsPerEvent },
    subscriptions: { write: eps * w.subscriptionsWritesPerEvent, read: eps * w.subscriptionsReadsPerEvent },
  };
  const dedupGB = (eps * settings.dedupTtlHours * 3600 * w.dedupMarkerBytes) / GB;
  for (const role of ['dedup', 'users', 'subscriptions'] as const) {
    const table = settings.tables[role];
    const l = load[role];
    if (table.billing === 'on-demand') {
      add(
        'DynamoDB',
        `${role}: reads and writes`,
        `on-demand: ${fmt(l.write * SECONDS_PER_MONTH)} writes, ${fmt(l.read * SECONDS_PER_MONTH)} strongly consistent reads`,
        ((l.write * SECONDS_PER_MONTH) / 1e6) * price('dynamodb.onDemandWrite1M') +
          ((l.read * SECONDS_PER_MONTH) / 1e6) * price('dynamodb.onDemandRead1M'),
      );
    } else {
      const wcu = provisioned(l.write, table.write!, `${role} writes`, warnings);
      const rcu = provisioned(l.read, table.read!, `${role} reads`, warnings);
      add(
        'DynamoDB',
        `${role}: reads and writes`,
        `provisioned: ${fmt(wcu)} WCU (load ${fmt(l.write, 1)}/s, target ${table.write!.targetUtilization}%, floor ${table.write!.min}), ${fmt(rcu)} RCU (load ${fmt(l.read, 1)}/s, floor ${table.read!.min})`,
        wcu * hours * price('dynamodb.wcuHour') + rcu * hours * price('dynamodb.rcuHour'),
      );
    }
    const gb = role === 'dedup' ? dedupGB : w.stateTablesGB / 2;
    const pitr = table.pointInTimeRecovery;
    add(
      'DynamoDB',
      `${role}: storage`,
      role === 'dedup'
        ? `${fmt(eps * settings.dedupTtlHours * 3600)} markers (${settings.dedupTtlHours} h window) x ${w.dedupMarkerBytes} B = ${fmt(gb, 1)} GB${pitr ? ', with PITR' : ', no PITR'}`
        : `${fmt(gb, 1)} GB of state${pitr ? ', with PITR' : ', no PITR'}`,
      gb * (price('dynamodb.storageGBMonth') + (pitr ? price('dynamodb.pitrGBMonth') : 0)),
    );
  }

  // S3
  const stagingDays = Math.min(settings.lake.stagingExpirationDays, 3650) + settings.lake.noncurrentDays;
  const stagingGB = (eps * 86400 * stagingDays * w.stagingGzipBytesPerEvent) / GB;
  const curatedPerMonthGB = (events * w.curatedBytesPerEvent) / GB;
  const hotMonths = Math.min(traffic.months, settings.lake.curatedTransitionDays / DAYS_PER_MONTH);
  const coldMonths = traffic.months - hotMonths;
  const coldPrice =
    settings.lake.curatedStorageClass === 'STANDARD' ? 's3.standardGBMonth' : 's3.standardIaGBMonth';
  add(
    'S3',
    'storage',
    `staging ${fmt(stagingGB, 1)} GB (${stagingDays} days incl. old versions); curated ${fmt(curatedPerMonthGB, 1)} GB a month, month ${traffic.months}: ${fmt(curatedPerMonthGB * hotMonths, 1)} GB Standard + ${fmt(curatedPerMonthGB * coldMonths, 1)} GB ${settings.lake.curatedStorageClass}`,
    (stagingGB + curatedPerMonthGB * hotMonths) * price('s3.standardGBMonth') +
      curatedPerMonthGB * coldMonths * price(coldPrice),
  );
  add(
    'S3',
    'requests',
    `${fmt(firehoseObjects)} PUTs by Firehose, the same GETs by compaction`,
    (firehoseObjects / 1000) * (price('s3.put1k') + price('s3.get1k')),
  );

  // Compaction Lambda
  const compactionSeconds = Math.min(900, (eps * 86400 * w.compactionSecondsPerMillion) / 1e6);
  add(
    'Lambda',
    'compaction',
    `${fmt(DAYS_PER_MONTH, 1)} nightly runs of ~${fmt(compactionSeconds)} s at ${settings.compaction.memoryMiB} MB ${settings.compaction.architecture}`,
    lambdaCost(settings.compaction, DAYS_PER_MONTH, compactionSeconds, price),
  );

  // CloudWatch and KMS
  const scalingAlarms = Object.values(settings.tables).reduce(
    (n, t) => n + (t.billing === 'provisioned' ? 4 : 0),
    0,
  );
  const alarms = settings.alarms + scalingAlarms;
  const logsGB = (invocations * w.transformLogBytesPerInvocation) / GB;
  add(
    'CloudWatch',
    'alarms, dashboard, metrics, logs',
    `${alarms} alarms (${scalingAlarms} of autoscaling), ${settings.dashboards} dashboard, ${w.customMetrics} custom metrics, ${fmt(logsGB, 2)} GB of transform logs`,
    alarms * price('cloudwatch.alarm') +
      settings.dashboards * price('cloudwatch.dashboard') +
      w.customMetrics * price('cloudwatch.metric') +
      logsGB * price('cloudwatch.logsIngestGB'),
  );
  add('KMS', 'customer managed keys', `${settings.kmsKeys} key(s)`, settings.kmsKeys * price('kms.key'));

  const total = lines.reduce((s, l) => s + l.monthly, 0);
  return {
    region: prices.region,
    pricesChecked: prices.checked,
    traffic,
    eventsPerMonth: events,
    recordsPerMonth: records,
    eventsPerRecord,
    billedBytesPerEvent: billedRecordBytes / eventsPerRecord,
    lines: lines.map((l) => ({ ...l, monthly: round(l.monthly) })),
    total: round(total),
    perMillionEvents: round(total / (events / 1e6), 4),
    warnings,
  };
}

function lambdaCost(
  fn: FunctionSettings,
  invocations: number,
  seconds: number,
  price: (id: PriceId) => number,
): number {
  const gbSeconds = invocations * seconds * (fn.memoryMiB / 1024);
  const extraTmp = Math.max(0, fn.ephemeralStorageMiB - 512) / 1024;
  return (
    gbSeconds * price(fn.architecture === 'arm64' ? 'lambda.armGBSecond' : 'lambda.x86GBSecond') +
    (invocations / 1e6) * price('lambda.requests1M') +
    invocations * seconds * extraTmp * price('lambda.ephemeralGBSecond')
  );
}

/** Capacity autoscaling holds for a steady load: load / target, within the floor and ceiling. */
function provisioned(load: number, range: CapacityRange, what: string, warnings: string[]): number {
  const need = load / (range.targetUtilization / 100);
  if (load > range.max) {
    warnings.push(
      `${what}: the steady load (${fmt(load, 1)}/s) is above the maximum capacity (${range.max}): throttled all the time`,
    );
  }
  return Math.min(range.max, Math.max(range.min, Math.ceil(need)));
}
