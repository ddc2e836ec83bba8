import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LakeDay, LakeSqlError, NoDataError, type Row, SQL_DIR } from './runner.js';
import { CheckList } from './scorecard/checks.js';
import { contentChecks } from './scorecard/content.js';
import { reconciliationChecks } from './scorecard/reconciliation.js';
import { recordChecks } from './scorecard/records.js';
import type {
  Bounds,
  Check,
  Scorecard,
  ScorecardOptions,
  Status,
  ThresholdOverrides,
  Thresholds,
} from './scorecard/types.js';
import { volumeChecks } from './scorecard/volume.js';

export { judge } from './scorecard/checks.js';
export { formatFigure, formatScorecard } from './scorecard/format.js';
export type {
  Bounds,
  Check,
  Dimension,
  Scorecard,
  ScorecardOptions,
  Status,
  ThresholdOverrides,
  Thresholds,
} from './scorecard/types.js';

// The data-quality scorecard of one day: the SQL of sql/quality/ gives the figures, this file
// holds them against thresholds (sql/quality/thresholds.json, overridable) and gives each check a
// status, as Deequ, Great Expectations or Soda checks do. A scheduler gates on `failed`. Each
// family of checks is in sql/scorecard/, the table for people in sql/scorecard/format.ts.

export class ThresholdsError extends LakeSqlError {
  static override readonly code: string = 'THRESHOLDS_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ThresholdsError';
  }
}

export const DEFAULT_THRESHOLDS_FILE = join(SQL_DIR, 'quality', 'thresholds.json');

/** The default thresholds merged with a partial override (a --thresholds file). */
export async function loadThresholds(overrides: ThresholdOverrides = {}): Promise<Thresholds> {
  const defaults = JSON.parse(await readFile(DEFAULT_THRESHOLDS_FILE, 'utf8')) as Thresholds;
  const merged: Thresholds = {
    history_days: overrides.history_days ?? defaults.history_days,
    volume: { ...defaults.volume, ...overrides.volume },
    checks: { ...defaults.checks, ...overrides.checks },
  };
  // A misspelt id would silently keep the default: refuse ids no check answers to.
  const wildcards = Object.keys(defaults.checks)
    .filter((k) => k.endsWith('.*'))
    .map((k) => k.slice(0, -1));
  for (const id of Object.keys(overrides.checks ?? {})) {
    if (!(id in defaults.checks) && !wildcards.some((w) => id.startsWith(w))) {
      throw new ThresholdsError(`unknown check ${id} in thresholds (see sql/quality/thresholds.json)`);
    }
  }
  for (const [id, b] of Object.entries(merged.checks)) {
    if (!Number.isFinite(b?.warn) || !(b?.fail === null || Number.isFinite(b?.fail))) {
      throw new ThresholdsError(`threshold ${id} needs numbers "warn" and "fail" (or "fail": null)`);
    }
  }
  for (const [name, v] of Object.entries(merged.volume)) {
    if (!Number.isFinite(v) || v < 0) throw new ThresholdsError(`volume.${name} must be a number >= 0`);
  }
  if (!Number.isInteger(merged.history_days) || merged.history_days < 0) {
    throw new ThresholdsError('history_days must be a whole number >= 0');
  }
  return merged;
}

/** Reads a --thresholds file. */
export async function readThresholdsFile(path: string): Promise<ThresholdOverrides> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ThresholdOverrides;
  } catch (error) {
    throw new ThresholdsError(`cannot read thresholds ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function boundsOf(thresholds: Thresholds, id: string): Bounds {
  const exact = thresholds.checks[id];
  if (exact) return exact;
  // The longest `prefix.*` that matches: `validity.*` for `validity.schema_violation`.
  const parts = id.split('.');
  for (let n = parts.length - 1; n > 0; n--) {
    const wild = thresholds.checks[`${parts.slice(0, n).join('.')}.*`];
    if (wild) return wild;
  }
  throw new ThresholdsError(`no threshold for check ${id}`);
}

/** The scorecard's queries, sql/quality/<name>.sql, in the order they run. */
export const SCORECARD_QUERIES = [
  'reconciliation',
  'completeness',
  'validity',
  'uniqueness',
  'freshness',
  'volume',
  'enrichment',
  'consistency',
  'vocabulary',
  'bounds',
  'replays',
] as const;

/** Runs every check of the scorecard over one day of the lake. */
export async function runScorecard(options: ScorecardOptions): Promise<Scorecard> {
  const thresholds = await loadThresholds(options.thresholds);
  const asOf = options.asOf ?? new Date();
  const lake = await LakeDay.open({
    store: options.store,
    day: options.day,
    historyDays: thresholds.history_days,
    asOf,
    liveFrom: options.liveFrom,
  });
  try {
    const reason = lake.noDataReason();
    if (reason) throw new NoDataError(reason);
    const figures: Record<string, Row[]> = {};
    for (const name of SCORECARD_QUERIES) {
      figures[name] = (await lake.query(`quality/${name}.sql`)).rows;
    }
    const checks = buildChecks(figures, thresholds, lake.inventory.compacted, options);
    const counts: Record<Status, number> = { pass: 0, warn: 0, fail: 0 };
    for (const c of checks) counts[c.status]++;
    return {
      day: options.day,
      lake: options.store.location,
      as_of: asOf.toISOString(),
      status: counts.fail ? 'fail' : counts.warn ? 'warn' : 'pass',
      counts,
      checks,
      figures,
    };
  } finally {
    await lake.close();
  }
}

function buildChecks(
  figures: Record<string, Row[]>,
  thresholds: Thresholds,
  compacted: boolean,
  options: ScorecardOptions,
): Check[] {
  const list = new CheckList(thresholds, (id) => boundsOf(thresholds, id));
  reconciliationChecks(list, figures, compacted, options);
  recordChecks(list, figures);
  list.checks.push(...volumeChecks(figures.volume!, thresholds, list.bounds));
  contentChecks(list, figures);
  return list.checks;
}
