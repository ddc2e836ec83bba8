import type { Row } from '../runner.js';
import type { Bounds, Check, Dimension, Status, Thresholds } from './types.js';

// What every check family of the scorecard shares: the judgement of a figure against its bounds,
// and the list the families add their checks to, in the order the scorecard shows them.

/** The figures of the scorecard's queries, by query name. */
export type Figures = Record<string, Row[]>;

/** The status of a figure against bounds, in a direction. */
export function judge(figure: number | null, bounds: Bounds, direction: 'max' | 'min'): Status {
  if (figure === null || Number.isNaN(figure)) return 'pass';
  if (direction === 'max') {
    return figure <= bounds.warn ? 'pass' : bounds.fail === null || figure <= bounds.fail ? 'warn' : 'fail';
  }
  return figure >= bounds.warn ? 'pass' : bounds.fail === null || figure >= bounds.fail ? 'warn' : 'fail';
}

/** The checks of a scorecard as the families add them, each judged against its threshold. */
export class CheckList {
  readonly checks: Check[] = [];

  constructor(
    readonly thresholds: Thresholds,
    /** The bounds of a check id (exact, or its longest `prefix.*`). */
    readonly bounds: (id: string) => Bounds,
  ) {}

  /** Adds a check; `override` gives other bounds, or a status it cannot be better than. */
  readonly add = (
    id: string,
    figure: number | null,
    detail: string,
    direction: 'max' | 'min' = 'max',
    override?: { bounds?: Bounds; status?: Status },
  ): void => {
    const threshold = override?.bounds ?? this.bounds(id);
    const judged = judge(figure, threshold, direction);
    // An override can only make a status worse (a --stats run outside the day), never better.
    const rank = { pass: 0, warn: 1, fail: 2 } as const;
    const status = override?.status && rank[override.status] > rank[judged] ? override.status : judged;
    this.checks.push({
      id,
      dimension: id.split('.')[0] as Dimension,
      figure,
      direction,
      threshold,
      status,
      detail,
    });
  };
}

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const pct = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.001 ? 4 : 2)}%`;
