import { NEW_ACCOUNT_LAMBDA } from '../lake/settings.js';
import type { FirelakeConfig } from './config-types.js';

// `firelake preflight`: what the configured stack asks of Lambda beside what the account allows,
// before a deploy finds out. From the account: Lambda's GetAccountSettings, whose AccountLimit
// gives ConcurrentExecutions and UnreservedConcurrentExecutions (and code sizes) but no memory
// cap: nothing in the Lambda API says whether an account is held to a new account's 3,008 MB;
// only a CreateFunction that asks more does ("'MemorySize' value failed to satisfy constraint:
// Member must have value less than or equal to 3008"). Pure: the caller reads the account.

/** GetAccountSettings' AccountLimit, the part the check reads. */
export interface LambdaAccount {
  concurrentExecutions: number;
  unreservedConcurrentExecutions: number;
}

/** The default Concurrent executions quota: an account below it is one AWS has not raised yet. */
export const DEFAULT_CONCURRENCY_QUOTA = 1000;
/** Unreserved concurrency Lambda keeps back from reservations (all of it when the quota is lower). */
const KEPT_UNRESERVED = 100;
/** Service Quotas code of Lambda's "Concurrent executions". */
export const CONCURRENCY_QUOTA_CODE = 'L-B99A9384';

export type Level = 'ok' | 'warning' | 'error';

export interface Finding {
  check: 'reserved-concurrency' | 'fan-out-concurrency' | 'memory';
  level: Level;
  message: string;
  /** What to change, when something should. */
  change?: string;
}

export interface PreflightReport {
  account: LambdaAccount;
  stack: {
    reservedConcurrency: { transform: number; compaction: number };
    fanOutConcurrency: number;
    largestMemoryMiB: number;
  };
  findings: Finding[];
  /** Whether a deploy would be refused (an `error` finding). */
  deployable: boolean;
}

export function preflight(config: FirelakeConfig, account: LambdaAccount): PreflightReport {
  const transform = config.transform.reservedConcurrency ?? 0;
  const compaction = config.compaction.reservedConcurrency ?? 0;
  const reserved = transform + compaction;
  const fanOut = config.compaction.maxConcurrency;
  const largestMemoryMiB = Math.max(config.compaction.memoryMiB, config.transform.memoryMiB);
  const limit = account.concurrentExecutions;
  const findings: Finding[] = [];

  // Lambda refuses a reservation that leaves fewer than 100 unreserved, or any at all when the
  // quota is 100 or less ("... decreases account's UnreservedConcurrentExecution below its
  // minimum value of [10]").
  const keep = Math.min(KEPT_UNRESERVED, limit);
  const reservable = Math.max(0, account.unreservedConcurrentExecutions - keep);
  const reservedBy = [
    transform ? `firelake:transformReservedConcurrency=${transform}` : '',
    compaction ? `firelake:compactionReservedConcurrency=${compaction}` : '',
  ].filter(Boolean);
  if (reserved === 0) {
    findings.push({
      check: 'reserved-concurrency',
      level: 'ok',
      message: 'the stack reserves no concurrency',
    });
  } else if (reserved <= reservable) {
    findings.push({
      check: 'reserved-concurrency',
      level: 'ok',
      message: `the stack reserves ${reserved} (${reservedBy.join(', ')}); this account can reserve ${reservable}`,
    });
  } else {
    const othersReserved = limit - account.unreservedConcurrentExecutions;
    findings.push({
      check: 'reserved-concurrency',
      level: 'error',
      message:
        `the stack reserves ${reserved} concurrent executions (${reservedBy.join(', ')}), this account can reserve ` +
        `${reservable} (ConcurrentExecutions ${limit}, UnreservedConcurrentExecutions ${account.unreservedConcurrentExecutions}, ` +
        `${keep} of which must stay unreserved): the deploy would fail`,
      change:
        `remove ${reservedBy.join(' and ')} from cdk.json or -c (nothing needs it to be correct), or ask for ` +
        `"Concurrent executions" (Service Quotas, Lambda, ${CONCURRENCY_QUOTA_CODE}) of at least ${reserved + othersReserved + KEPT_UNRESERVED}`,
    });
  }

  // The fan-out's units run beside the transform in the unreserved pool; throttled units are
  // retried with backoff, but the transform is throttled meanwhile too.
  const pool = account.unreservedConcurrentExecutions - Math.min(reserved, reservable);
  const room = Math.max(1, Math.floor(pool / 2));
  if (fanOut <= room) {
    findings.push({
      check: 'fan-out-concurrency',
      level: 'ok',
      message: `the fan-out compacts up to ${fanOut} units at once; ${pool} executions are unreserved`,
    });
  } else {
    findings.push({
      check: 'fan-out-concurrency',
      level: 'warning',
      message:
        `the fan-out may run ${fanOut} unit Lambdas at once (a day of two units or more), in a pool of ${pool} ` +
        'unreserved executions that the transform needs too: units and transform invocations past it are throttled',
      change: `-c firelake:compactionMaxConcurrency=${room} (half the pool), or a higher "Concurrent executions" quota (${CONCURRENCY_QUOTA_CODE})`,
    });
  }

  // The memory cap is not in the API: the quota says whether the account is still a new one.
  const cap = NEW_ACCOUNT_LAMBDA.memoryMiB;
  const newAccount = limit < DEFAULT_CONCURRENCY_QUOTA;
  if (largestMemoryMiB <= cap) {
    findings.push({
      check: 'memory',
      level: 'ok',
      message: `the largest function asks ${largestMemoryMiB} MB, within a new account's ${cap} MB (the Lambda API does not report an account's cap)`,
    });
  } else if (!newAccount) {
    findings.push({
      check: 'memory',
      level: 'ok',
      message:
        `the largest function asks ${largestMemoryMiB} MB, over a new account's ${cap} MB; the Lambda API does not report ` +
        `an account's cap, and this one's concurrency quota (${limit}) is no longer a new account's`,
    });
  } else {
    findings.push({
      check: 'memory',
      level: 'warning',
      message:
        `the largest function asks ${largestMemoryMiB} MB; new accounts are held to ${cap} MB, which the Lambda API does not ` +
        `report, and this account's concurrency quota (${limit}, below the default ${DEFAULT_CONCURRENCY_QUOTA}) is a new ` +
        "account's: the deploy would likely fail (\"'MemorySize' value failed to satisfy constraint\")",
      change: `-c firelake:compactionMemoryMiB=${cap}, or ask AWS Support to lift the memory cap`,
    });
  }

  return {
    account,
    stack: { reservedConcurrency: { transform, compaction }, fanOutConcurrency: fanOut, largestMemoryMiB },
    findings,
    deployable: !findings.some((f) => f.level === 'error'),
  };
}
