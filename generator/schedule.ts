import { FirelakeError } from '../lake/errors.js';

// When each record is due. Records are evenly spaced at the current rate (base rate times the
// spike multiplier in force), so a paced run holds the asked rate over any minute, spikes
// included; Poisson gaps would add ~1% noise per minute at the default rate for no benefit.

/** The rate is `multiplier` times the base rate from `fromMs` for `forMs` (offsets from the start). */
export interface Spike {
  multiplier: number;
  fromMs: number;
  forMs: number;
}

export class SpikeSyntaxError extends FirelakeError {
  static override readonly code: string = 'SPIKE_INVALID';
  override readonly name = 'SpikeSyntaxError';
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SPIKE_RE = /^(\d+(?:\.\d+)?)x@(\d+(?:\.\d+)?)(s|m|h|d)\+(\d+(?:\.\d+)?)(s|m|h|d)$/;
/** The worst spike the pipeline is sized for is 5x; allow room for stress runs, not typos. */
export const MAX_SPIKE_MULTIPLIER = 50;

/** `5x@10m+5m`: five times the rate, starting 10 minutes after the start, for 5 minutes. */
export function parseSpike(text: string): Spike {
  const m = SPIKE_RE.exec(text.trim());
  if (!m) {
    throw new SpikeSyntaxError(
      `"${text}" is not a spike: expected MULTIPLIERx@START+LENGTH, e.g. 5x@10m+5m (5x the rate from minute 10 for 5 minutes)`,
    );
  }
  const multiplier = Number(m[1]);
  if (!(multiplier > 0) || multiplier > MAX_SPIKE_MULTIPLIER) {
    throw new SpikeSyntaxError(
      `spike multiplier ${m[1]} must be above 0 and at most ${MAX_SPIKE_MULTIPLIER}`,
    );
  }
  const forMs = Number(m[4]) * UNIT_MS[m[5]!]!;
  if (forMs <= 0) throw new SpikeSyntaxError(`spike length in "${text}" must be positive`);
  return { multiplier, fromMs: Number(m[2]) * UNIT_MS[m[3]!]!, forMs };
}

/** Rate multiplier at an offset: the largest spike in force, or 1. */
export function multiplierAt(spikes: readonly Spike[], offsetMs: number): number {
  let m = 1;
  let any = false;
  for (const s of spikes) {
    if (offsetMs >= s.fromMs && offsetMs < s.fromMs + s.forMs) {
      m = any ? Math.max(m, s.multiplier) : s.multiplier;
      any = true;
    }
  }
  return m;
}

/** Offsets (ms from the start) at which successive records are due. */
export class Schedule {
  private offset = 0;
  private readonly gapMs: number;

  constructor(
    ratePerSecond: number,
    private readonly spikes: readonly Spike[] = [],
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate ${ratePerSecond} must be positive`);
    this.gapMs = 1000 / ratePerSecond;
  }

  /** Offset of the next record, without consuming it. */
  peek(): number {
    return this.offset;
  }

  /** Offset of the next record; moves on to the one after. */
  take(): number {
    const at = this.offset;
    this.offset +=
      this.spikes.length === 0 ? this.gapMs : this.gapMs / multiplierAt(this.spikes, this.offset);
    return at;
  }
}
