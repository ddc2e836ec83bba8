import { ConfigError, type DeepPartial, type FirelakeConfig } from './config-types.js';

/**
 * Starting points, chosen with `-c firelake:profile=<name>` (or `firelake cost --profile`);
 * other context settings apply on top of the profile.
 *
 * `recommended-1m`: the configuration for about 1M events/hour that `firelake cost` puts at or
 * under $0.36 per million events all-in (docs/cost.md), with dedup and enrichment.
 * Why each setting, and how it still takes a 5x spike without losing data:
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
