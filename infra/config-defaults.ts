import { UNKNOWN_LANGUAGE } from '../events/curated.js';
import { DEFAULT_DELIVERY_SETTINGS } from '../lake/delivery.js';
import {
  DEFAULT_COMPACTION_LATE_WINDOW_DAYS,
  DEFAULT_COMPACTION_MEMORY_MIB,
  DEFAULT_DEDUP_TTL_HOURS,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_NAME_PREFIX,
  DEFAULT_TRANSFORM_LATE_WINDOW_DAYS,
  LANGUAGES,
} from '../lake/settings.js';
import type { FirelakeConfig } from './config-types.js';

// The defaults a production deployment starts from; the settings other parts share come from
// lake/settings.ts (docs/settings.md).

export const DEFAULT_CONFIG: FirelakeConfig = {
  namePrefix: DEFAULT_NAME_PREFIX,
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
    lateWindowDays: DEFAULT_TRANSFORM_LATE_WINDOW_DAYS,
    logRetentionDays: 30,
  },
  delivery: DEFAULT_DELIVERY_SETTINGS,
  api: { enabled: false, auth: 'api-key', rateLimit: 500, burstLimit: 1000, dailyQuota: undefined },
  compaction: {
    time: '02:30',
    manifestDeadline: '06:00',
    memoryMiB: DEFAULT_COMPACTION_MEMORY_MIB,
    ephemeralStorageMiB: 10240,
    timeoutMinutes: 15,
    reservedConcurrency: undefined,
    maxConcurrency: 40,
    lateWindowDays: DEFAULT_COMPACTION_LATE_WINDOW_DAYS,
    retryAttempts: 2,
  },
  catalog: {
    // Partition projection enumerates them: the app's languages, and the partition of events without one.
    languages: [...[...LANGUAGES].sort(), UNKNOWN_LANGUAGE],
    firstYear: 2025,
  },
  alarms: { email: undefined, dataFreshnessSeconds: 900 },
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
};
