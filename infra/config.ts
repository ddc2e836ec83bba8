import { settingsProblems } from '../lake/settings.js';
import type { TableId } from '../transform/tables.js';
import { DEFAULT_CONFIG } from './config-defaults.js';
import {
  ConfigError,
  capacityOf,
  type DeepPartial,
  type FirelakeConfig,
  mergeConfig,
} from './config-types.js';

// Everything a team tunes, typed, with the defaults a production deployment starts from.
// `resolveConfig` merges a partial config over the defaults and checks it once, so a bad value
// fails the synth with a message naming the setting instead of failing a deploy half-way.
// The types are in config-types.ts, the defaults in config-defaults.ts, the profiles and the CDK
// context in config-profiles.ts and config-context.ts; everything is exported from here.

import { cdkJsonContext, configFromContext } from './config-context.js';

export { cdkJsonContext, configFromContext } from './config-context.js';
export { DEFAULT_CONFIG } from './config-defaults.js';
export { PROFILES, profileConfig } from './config-profiles.js';
export {
  ConfigError,
  capacityOf,
  type DeepPartial,
  type FirelakeConfig,
  type TableBilling,
  type TableCapacity,
} from './config-types.js';

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
  const c = mergeConfig(DEFAULT_CONFIG, overrides);
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
  int('lake.quarantineExpirationDays', c.lake.quarantineExpirationDays, 1, 3650);
  int('lake.curatedTransitionDays', c.lake.curatedTransitionDays, 30, 3650);
  int('lake.accessLogsExpirationDays', c.lake.accessLogsExpirationDays, 1, 3650);
  // The settings other parts share, checked by the same rules as on every other path.
  problems.push(
    ...settingsProblems(
      {
        transformLateWindowDays: c.transform.lateWindowDays,
        compactionLateWindowDays: c.compaction.lateWindowDays,
        dedupTtlHours: c.transform.dedupTtlHours,
        stagingExpirationDays: c.lake.stagingExpirationDays,
      },
      'cdk',
    ),
  );
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
  int('compaction.reservedConcurrency', c.compaction.reservedConcurrency, 1, 10000);
  // A Distributed Map runs up to 10,000 child executions at once.
  int('compaction.maxConcurrency', c.compaction.maxConcurrency, 1, 10000);
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
 * The configuration `npx cdk deploy` would deploy with cdk.json's context (its profile and
 * overrides), checked: what the local runtime takes of it (the delivery stream's settings) is
 * what the stack gets.
 */
export function deploymentConfig(context: Record<string, unknown> = cdkJsonContext()): FirelakeConfig {
  return resolveConfig(configFromContext((key) => context[key]));
}
