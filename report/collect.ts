import type { GeneratorStats } from '../generator/stats.js';
import { type Day, parseDay } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { LakeDay, NoDataError, type Row } from '../sql/runner.js';
import { runScorecard, type Scorecard, type ThresholdOverrides } from '../sql/scorecard.js';

// Everything the HTML report shows, collected from the lake with the SQL of sql/: the scorecard
// through runScorecard (the code `firelake quality` runs), the charts' series from sql/report/,
// engagement from sql/analytics/. Nothing here computes a figure of its own.

/** sql/report/ queries, by the key the report keeps their rows under. */
export const REPORT_QUERIES = {
  eventsPerMinute: 'report/events_per_minute.sql',
  quarantineOverTime: 'report/quarantine_over_time.sql',
  freshnessHistogram: 'report/freshness_histogram.sql',
  enrichmentByHour: 'report/enrichment_by_hour.sql',
  duplicatesByHour: 'report/duplicates_by_hour.sql',
  curatedFiles: 'report/curated_files.sql',
} as const;

/** sql/analytics/ queries behind the engagement section. */
export const ENGAGEMENT_QUERIES = {
  dailyActiveUsers: 'analytics/daily_active_users.sql',
  dailyAggregates: 'analytics/daily_aggregates.sql',
  lessonsByLanguageSubscription: 'analytics/lessons_by_language_subscription.sql',
} as const;

export type Series = Record<keyof typeof REPORT_QUERIES, Row[]>;

export interface Engagement {
  /** The one row of daily_active_users. */
  dailyActiveUsers: Row;
  /** The day's `ALL` row of daily_aggregates (events, users, sessions, average session). */
  total: Row;
  lessonsByLanguageSubscription: Row[];
}

/** Why a day has no charts: it has nothing at all, or it was never compacted. */
export interface DayProblem {
  kind: 'no_data' | 'not_compacted';
  message: string;
}

export interface DayReport {
  day: Day;
  /** Absent when the day has no data at all. */
  scorecard?: Scorecard;
  /** Absent when the day is not compacted (the charts read curated data). */
  series?: Series;
  engagement?: Engagement;
  problem?: DayProblem;
}

export interface ReportData {
  day: Day;
  lake: string;
  generated_at: string;
  as_of: string;
  live_from: string | null;
  /** The report's day and the N - 1 days before it, oldest first (the trends). */
  days: DayReport[];
}

export interface CollectOptions {
  store: ObjectStore;
  day: Day;
  /** Days of trends, the report's day included (default 1: no trends). */
  days?: number;
  asOf?: Date;
  liveFrom?: Date;
  thresholds?: ThresholdOverrides;
  /** The generator's ground truth, reconciled on the report's day (as `firelake quality --stats`). */
  stats?: GeneratorStats;
  log?: (line: string) => void;
}

/** Collects the report's day and, with `days` > 1, the days before it. */
export async function collectReport(options: CollectOptions): Promise<ReportData> {
  const asOf = options.asOf ?? new Date();
  const n = options.days ?? 1;
  const start = parseDay(options.day).startMs;
  const days: DayReport[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const day = new Date(start - i * 86_400_000).toISOString().slice(0, 10);
    options.log?.(`collecting ${day}`);
    // The trend days need only the scorecard and engagement; the report's day also the series.
    days.push(await collectDay({ ...options, day, asOf, series: i === 0 }));
  }
  return {
    day: options.day,
    lake: options.store.location,
    generated_at: new Date().toISOString(),
    as_of: asOf.toISOString(),
    live_from: options.liveFrom?.toISOString() ?? null,
    days,
  };
}

async function collectDay(options: CollectOptions & { asOf: Date; series: boolean }): Promise<DayReport> {
  const { store, day } = options;
  let scorecard: Scorecard;
  try {
    scorecard = await runScorecard({
      store,
      day,
      asOf: options.asOf,
      liveFrom: options.liveFrom,
      thresholds: options.thresholds,
      stats: options.series ? options.stats : undefined,
    });
  } catch (error) {
    if (error instanceof NoDataError) return { day, problem: { kind: 'no_data', message: error.message } };
    throw error;
  }
  const lake = await LakeDay.open({ store, day, asOf: options.asOf, liveFrom: options.liveFrom });
  try {
    if (!lake.inventory.compacted) {
      return {
        day,
        scorecard,
        problem: {
          kind: 'not_compacted',
          message:
            `${day} is not compacted in ${store.location}: the curated table does not hold it, so ` +
            `there are no curated events to draw. Run firelake compact --date ${day}; the scorecard ` +
            'below covers what staging, quarantine and errors hold.',
        },
      };
    }
    const rows = async (file: string) => (await lake.query(file)).rows;
    let series: Series | undefined;
    if (options.series) {
      series = {} as Series;
      for (const [key, file] of Object.entries(REPORT_QUERIES)) {
        series[key as keyof Series] = await rows(file);
      }
    }
    const aggregates = await rows(ENGAGEMENT_QUERIES.dailyAggregates);
    const engagement: Engagement = {
      dailyActiveUsers: (await rows(ENGAGEMENT_QUERIES.dailyActiveUsers))[0] ?? {},
      // ROLLUP's rows come grand total first; the day's own total is the one with a day and ALL below.
      total: aggregates.find((r) => r.day !== 'ALL' && r.device === 'ALL') ?? aggregates[0] ?? {},
      lessonsByLanguageSubscription: await rows(ENGAGEMENT_QUERIES.lessonsByLanguageSubscription),
    };
    return { day, scorecard, series, engagement };
  } finally {
    await lake.close();
  }
}
