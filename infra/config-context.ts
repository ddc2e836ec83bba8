import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileConfig } from './config-profiles.js';
import { ConfigError, type DeepPartial, type FirelakeConfig, mergeConfig } from './config-types.js';

/** cdk.json's context: the settings `npx cdk deploy` starts from. */
export function cdkJsonContext(): Record<string, unknown> {
  const text = readFileSync(join(import.meta.dirname, '..', 'cdk.json'), 'utf8');
  return (JSON.parse(text) as { context?: Record<string, unknown> }).context ?? {};
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
    transform: {
      reservedConcurrency: nr('transformReservedConcurrency'),
      lateWindowDays: nr('lateWindowDays'),
      dedupTtlHours: nr('dedupTtlHours'),
    },
    delivery: { source: str('source') as FirelakeConfig['delivery']['source'] | undefined },
    api: { enabled: bool('api'), auth: str('apiAuth') as FirelakeConfig['api']['auth'] | undefined },
    compaction: {
      time: str('compactionTime'),
      manifestDeadline: str('manifestDeadline'),
      memoryMiB: nr('compactionMemoryMiB'),
      reservedConcurrency: nr('compactionReservedConcurrency'),
      maxConcurrency: nr('compactionMaxConcurrency'),
      lateWindowDays: nr('compactionLateWindowDays'),
    },
    alarms: { email: str('alarmEmail') },
  };
  return mergeConfig(profile as FirelakeConfig, overrides) as DeepPartial<FirelakeConfig>;
}
