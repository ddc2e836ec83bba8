/**
 * The region the SDK clients use when none is configured (AWS_REGION, AWS_DEFAULT_REGION), and
 * the one the local runtime reports. Here rather than in lake/settings.ts, which re-exports it:
 * aws/ imports nothing of Firelake, so lake/ may load a client without a cycle.
 */
export const DEFAULT_REGION = 'us-east-1';
