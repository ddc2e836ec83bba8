import type { GeneratorStats } from '../../generator/stats.js';
import type { Day } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';
import type { Row } from '../runner.js';

// The scorecard's types: sql/scorecard.ts runs the checks, each family in this folder builds them.

export type Status = 'pass' | 'warn' | 'fail';
export type Dimension =
  | 'reconciliation'
  | 'completeness'
  | 'validity'
  | 'uniqueness'
  | 'freshness'
  | 'volume'
  | 'enrichment'
  | 'consistency'
  | 'vocabulary'
  | 'bounds';

export interface Bounds {
  warn: number;
  /** null: the check only warns, never fails. */
  fail: number | null;
}

export interface Thresholds {
  history_days: number;
  /** Hours whose baseline is below min_baseline events are too thin to judge. */
  volume: { drop_below: number; spike_above: number; min_baseline: number };
  checks: Record<string, Bounds>;
}

/** A --thresholds file: any subset of the defaults. */
export interface ThresholdOverrides {
  history_days?: number;
  volume?: Partial<Thresholds['volume']>;
  checks?: Record<string, Bounds>;
}

export interface Check {
  /** `dimension.name[.subject]`, the key of its threshold. */
  id: string;
  dimension: Dimension;
  /** The figure the status is decided on; null when there is nothing to measure. */
  figure: number | null;
  /** `max`: the figure must stay at or below the bounds; `min`: at or above. */
  direction: 'max' | 'min';
  threshold: Bounds;
  status: Status;
  detail: string;
}

export interface Scorecard {
  day: Day;
  lake: string;
  as_of: string;
  status: Status;
  counts: Record<Status, number>;
  checks: Check[];
  /** Every figure the SQL returned, by query, for machines and for digging into a failure. */
  figures: Record<string, Row[]>;
}

export interface ScorecardOptions {
  store: ObjectStore;
  day: Day;
  /** The generator's --stats file (generator/stats.ts): also reconcile against what was sent. */
  stats?: GeneratorStats;
  /** Overrides merged over the defaults. */
  thresholds?: ThresholdOverrides;
  asOf?: Date;
  /**
   * Start of the live window: events created before it were backfilled (history sent in bulk),
   * so the freshness checks judge the events created from then on and report the rest apart.
   */
  liveFrom?: Date;
}
