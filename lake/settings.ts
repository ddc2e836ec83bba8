// The settings every part shares (the CDK stack, the Lambdas, the local runtime, the CLI, the
// generator and the benches), each default defined here once, with the rules that tie them
// together (docs/settings.md). No AWS or CDK imports: the Lambda bundles and the CLI load it cheaply.

import { FirelakeError } from './errors.js';

/** Prefix of every physical name in AWS; the local runtime uses the same names. */
export const DEFAULT_NAME_PREFIX = 'firelake';

/** The delivery stream's name under a name prefix (the CDK stack and the local Firehose). */
export function streamNameFor(namePrefix: string): string {
  return `${namePrefix}-events`;
}

/** A DynamoDB table's name under a name prefix (the CDK stack and dynalite). */
export function tableNameFor(namePrefix: string, tableId: string): string {
  return `${namePrefix}-${tableId}`;
}

/** The transform function's name under a name prefix. */
export function transformFunctionNameFor(namePrefix: string): string {
  return `${namePrefix}-transform`;
}

export const DEFAULT_STREAM_NAME = streamNameFor(DEFAULT_NAME_PREFIX);
export const DEFAULT_TRANSFORM_FUNCTION_NAME = transformFunctionNameFor(DEFAULT_NAME_PREFIX);

/** Local data: DynamoDB in `<dir>/dynamodb`, the write-ahead log in `<dir>/firehose`, the lake in `<dir>/lake`. */
export const DEFAULT_DATA_DIR = './data';

/** The lake folder inside a data dir (`--lake` defaults to it). */
export function lakeIn(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}/lake`;
}

export const DEFAULT_LAKE = lakeIn(DEFAULT_DATA_DIR);

// The region the local runtime reports, and the SDK's when none is configured: defined beside the
// SDK clients, which import nothing of Firelake.
export { DEFAULT_REGION } from '../aws/region.js';

/**
 * Lambda in a new AWS account: 10 concurrent executions and 3,008 MB of memory per function,
 * until AWS raises them (docs/deploy.md). The stack's defaults fit it; `firelake preflight`
 * compares the account's own figures with what the configured stack asks for.
 */
export const NEW_ACCOUNT_LAMBDA = { concurrentExecutions: 10, memoryMiB: 3008 } as const;

/** Compaction's Lambda memory (the nightly function and the fan-out's units): a new account's cap. */
export const DEFAULT_COMPACTION_MEMORY_MIB = NEW_ACCOUNT_LAMBDA.memoryMiB;

/** CloudWatch namespace of the EMF metrics (the transform, the manifest check, the stack's alarms). */
export const DEFAULT_METRICS_NAMESPACE = 'Firelake';

/**
 * The app's course languages, in the generator's order (its seeded draws index this list, so the
 * order is part of every seed's output). The Glue catalog's default partition values are these,
 * sorted, plus `unknown` (infra/config-defaults.ts).
 */
export const LANGUAGES: readonly string[] = [
  'es',
  'fr',
  'de',
  'it',
  'pt',
  'en',
  'ja',
  'ko',
  'zh',
  'ru',
  'nl',
  'sv',
  'tr',
  'pl',
];

// Two late windows, two ideas; the rule between them is below (settingsProblems).

/**
 * The transform's late window: an event whose event time is more than this many days before its
 * arrival is quarantined as `too_late`; a later one is staged under its event-time day.
 */
export const DEFAULT_TRANSFORM_LATE_WINDOW_DAYS = 7;

/**
 * Compaction's late window: how many days before yesterday the nightly run re-checks for staging
 * objects its manifests have not consumed (where the transform put late events).
 */
export const DEFAULT_COMPACTION_LATE_WINDOW_DAYS = 7;

/** How long an event_uuid is remembered for deduplication (the dedup table's TTL). */
export const DEFAULT_DEDUP_TTL_HOURS = 168;

/** The numeric settings with rules between them, as every path (CDK, Lambda, local, CLI) sees them. */
export interface SharedSettings {
  transformLateWindowDays: number;
  compactionLateWindowDays: number;
  dedupTtlHours: number;
  /** Staging's lifecycle expiration: AWS only (locally nothing expires), so optional. */
  stagingExpirationDays?: number;
}

export type SettingKey = keyof SharedSettings;

interface SettingSpec {
  /** What it is, one line (the CLI's help). */
  summary: string;
  /** Allowed range, inclusive; `integer` when a fraction makes no sense. */
  min: number;
  max: number;
  integer: boolean;
  /** Its name in the CDK config (FirelakeConfig). */
  cdk: string;
  /** The Lambda environment variable the stack sets, if a Lambda reads it. */
  lambdaEnv?: string;
  /** The variable the local runtime and the CLI read (the Lambda's, prefixed FIRELAKE_). */
  localEnv?: string;
}

export const SETTING_SPECS: Record<SettingKey, SettingSpec> = {
  transformLateWindowDays: {
    summary: "the transform's late window, days: older events (by arrival) are quarantined as too_late",
    min: 1,
    max: 365,
    integer: true,
    cdk: 'transform.lateWindowDays',
    lambdaEnv: 'LATE_WINDOW_DAYS',
    localEnv: 'FIRELAKE_LATE_WINDOW_DAYS',
  },
  compactionLateWindowDays: {
    summary: "compaction's late window, days before yesterday the nightly run re-checks (>= the transform's)",
    min: 0,
    max: 60,
    integer: true,
    cdk: 'compaction.lateWindowDays',
    lambdaEnv: 'COMPACTION_LATE_WINDOW_DAYS',
    localEnv: 'FIRELAKE_COMPACTION_LATE_WINDOW_DAYS',
  },
  dedupTtlHours: {
    summary: 'hours an event_uuid is remembered for deduplication',
    min: 1,
    max: 24 * 365,
    integer: false,
    cdk: 'transform.dedupTtlHours',
    lambdaEnv: 'DEDUP_TTL_HOURS',
    localEnv: 'FIRELAKE_DEDUP_TTL_HOURS',
  },
  stagingExpirationDays: {
    summary: 'days until staging objects expire (AWS only; > the compaction late window + 1)',
    min: 1,
    max: 3650,
    integer: true,
    cdk: 'lake.stagingExpirationDays',
  },
};

export const DEFAULT_SETTINGS: Required<Omit<SharedSettings, 'stagingExpirationDays'>> = {
  transformLateWindowDays: DEFAULT_TRANSFORM_LATE_WINDOW_DAYS,
  compactionLateWindowDays: DEFAULT_COMPACTION_LATE_WINDOW_DAYS,
  dedupTtlHours: DEFAULT_DEDUP_TTL_HOURS,
};

/** How an error names a setting: as the CDK config, a Lambda's environment, or the local/CLI environment spells it. */
export type SettingNaming = 'cdk' | 'lambda' | 'local';
export type SettingNames = Partial<Record<SettingKey, string>>;

function nameOf(key: SettingKey, naming: SettingNaming, names: SettingNames): string {
  const spec = SETTING_SPECS[key];
  const own = naming === 'cdk' ? spec.cdk : naming === 'lambda' ? spec.lambdaEnv : spec.localEnv;
  return names[key] ?? own ?? spec.cdk;
}

export class SettingsError extends FirelakeError {
  static override readonly code: string = 'SETTINGS_INVALID';
  override name = 'SettingsError';
}

/**
 * Every broken rule of `s`, each naming the setting (as `naming` spells it, or `names`) and the
 * rule. Settings absent from `s` are not checked, nor the rules that need them.
 */
export function settingsProblems(
  s: Partial<SharedSettings>,
  naming: SettingNaming,
  names: SettingNames = {},
): string[] {
  const problems: string[] = [];
  const name = (key: SettingKey) => nameOf(key, naming, names);
  for (const key of Object.keys(SETTING_SPECS) as SettingKey[]) {
    const v = s[key];
    const { min, max, integer } = SETTING_SPECS[key];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      problems.push(`${name(key)} = ${v}: expected ${integer ? 'a whole number ' : ''}${min}..${max}`);
    }
  }
  const {
    transformLateWindowDays: transform,
    compactionLateWindowDays: compaction,
    stagingExpirationDays,
  } = s;
  // Compaction re-reads staging for the late window; expiring it sooner would lose late events.
  if (
    stagingExpirationDays !== undefined &&
    compaction !== undefined &&
    stagingExpirationDays <= compaction + 1
  ) {
    problems.push(
      `${name('stagingExpirationDays')} = ${stagingExpirationDays} must exceed ${name('compactionLateWindowDays')} + 1 ` +
        `(${compaction + 1}): staging must outlive the nightly re-check of late days`,
    );
  }
  // A late event the transform stages lands under its event-time day; the nightly run must still
  // re-check that day, or the event never reaches curated.
  if (transform !== undefined && compaction !== undefined && transform > compaction) {
    problems.push(
      `${name('transformLateWindowDays')} = ${transform} must not exceed ${name('compactionLateWindowDays')} = ` +
        `${compaction}: staged late events would never be compacted`,
    );
  }
  return problems;
}

/** The defaults with `overrides` on top, checked; throws one SettingsError naming every broken rule. */
export function resolveSettings(
  overrides: Partial<SharedSettings> = {},
  naming: SettingNaming = 'local',
  names: SettingNames = {},
): SharedSettings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const settings: SharedSettings = { ...DEFAULT_SETTINGS, ...defined };
  const problems = settingsProblems(settings, naming, names);
  if (problems.length > 0) throw new SettingsError(`Firelake settings: ${problems.join('; ')}`);
  return settings;
}

/**
 * Reads `keys` from an environment as `naming` spells them (a Lambda's variables, or the local
 * FIRELAKE_ ones). Values are parsed only; the ranges and rules are settingsProblems'. Appends
 * a problem for each value that is not a number, and leaves that setting out.
 */
export function settingsFromEnv(
  env: Record<string, string | undefined>,
  naming: 'lambda' | 'local',
  keys: readonly SettingKey[],
  problems: string[],
): Partial<SharedSettings> {
  const out: Partial<SharedSettings> = {};
  for (const key of keys) {
    const spec = SETTING_SPECS[key];
    const variable = naming === 'lambda' ? spec.lambdaEnv : spec.localEnv;
    if (variable === undefined) continue;
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    const parses =
      Number.isFinite(n) && (!spec.integer || Number.isInteger(n)) && (spec.min === 0 ? n >= 0 : n > 0);
    if (!parses) {
      const kind = spec.integer
        ? `${spec.min === 0 ? 'non-negative' : 'positive'} whole number`
        : 'positive number';
      problems.push(`${variable}="${raw}" is not a ${kind}`);
      continue;
    }
    out[key] = n;
  }
  return out;
}
