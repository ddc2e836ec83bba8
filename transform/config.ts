import { FirelakeError } from '../lake/errors.js';
import { DEFAULT_SETTINGS, settingsFromEnv, settingsProblems } from '../lake/settings.js';
import { TABLES, type TableId } from './tables.js';

/** Everything the transform needs to know, read once (cold start, or by the local runtime). */
export interface TransformConfig {
  /** DynamoDB table names by table id; keys come from transform/tables.ts. */
  tables: Record<TableId, string>;
  /** How long an event_uuid is remembered for deduplication (DEDUP_TTL_HOURS). */
  dedupTtlHours: number;
  /** Events older than this, relative to their arrival, go to quarantine as `too_late` (LATE_WINDOW_DAYS). */
  lateWindowDays: number;
  /** Events further ahead of their arrival than this are `future_timestamp`. Default 5 minutes. */
  maxFutureSkewMs?: number;
  /** DynamoDB requests in flight at once per invocation. Default 32. */
  dynamoConcurrency?: number;
}

export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const DEFAULT_DYNAMO_CONCURRENCY = 32;

export class TransformConfigError extends FirelakeError {
  static override readonly code: string = 'TRANSFORM_CONFIG_INVALID';
  override name = 'TransformConfigError';
}

/**
 * Reads the transform's configuration from environment variables. Collects every problem and
 * throws one error naming them all, so a misconfigured function fails at cold start, clearly.
 */
export function loadTransformConfig(env: Record<string, string | undefined>): TransformConfig {
  const problems: string[] = [];
  const table = (id: TableId): string => {
    const name = TABLES[id].envVar;
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is not set (the ${id} table name)`);
    return value ?? '';
  };
  const tables = { dedup: table('dedup'), users: table('users'), subscriptions: table('subscriptions') };
  // The shared settings (lake/settings.ts) by the rules every path checks; this function sees
  // only its own two, so the rule between the late windows is the stack's and the CLI's to check.
  const read = settingsFromEnv(env, 'lambda', ['dedupTtlHours', 'transformLateWindowDays'], problems);
  const settings = { ...DEFAULT_SETTINGS, ...read };
  problems.push(...settingsProblems(read, 'lambda'));
  const config: TransformConfig = {
    tables,
    dedupTtlHours: settings.dedupTtlHours,
    lateWindowDays: settings.transformLateWindowDays,
  };
  if (problems.length > 0) {
    throw new TransformConfigError(`transform configuration: ${problems.join('; ')}`);
  }
  return config;
}
