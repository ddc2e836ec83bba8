import { EVENT_NAMES } from '../events/catalog.js';
import { FirelakeError } from '../lake/errors.js';
import { BAD_KIND_WEIGHTS, corrupt } from './faults.js';
import { Random, WeightedChoice } from './random.js';
import { Schedule, type Spike } from './schedule.js';
import { BAD_KINDS, type BadKind, type GeneratorStats } from './stats.js';
import { World } from './world.js';
import { LATE_ELIGIBLE_SHARE } from './world-model.js';

/** The default rate of docs/design.md: 1,000,000 events per hour. */
export const DEFAULT_RATE_PER_SECOND = 1_000_000 / 3600;

export interface GeneratorOptions {
  /** Same seed, same options: byte-identical output (in simulated time). Default 1. */
  seed?: number;
  /** Base rate in records per second (faults included). Default 1,000,000/h. */
  ratePerSecond?: number;
  /** Event time of the first record, epoch ms. Default: now. */
  start?: number;
  /** Stop once the clock has run this long (spikes add records, not time). */
  durationMs?: number;
  /** Stop after this many records. With neither limit, runs until aborted. */
  maxRecords?: number;
  spikes?: readonly Spike[];
  /**
   * Real time: created_at is the wall clock when the record is made and `runGenerator` paces
   * records to the schedule. Otherwise (simulated time) created_at follows the schedule.
   */
  realTime?: boolean;
  /** Shares of records, 0-1, together at most 1. */
  duplicateRate?: number;
  conflictRate?: number;
  badRate?: number;
  /** Share of records that are valid but hours late (lesson and notification events). */
  lateRate?: number;
  /** Bad kinds to draw from (default: all of BAD_KINDS). */
  badKinds?: readonly BadKind[];
}

export class GeneratorOptionsError extends FirelakeError {
  static override readonly code: string = 'GENERATOR_OPTIONS_INVALID';
  override readonly name = 'GeneratorOptionsError';
}

export interface GeneratedRecord {
  /** One record without its newline: a JSON line, or bytes when it is not valid UTF-8. */
  data: string | Buffer;
  /** When the record is due, epoch ms (the schedule). */
  at: number;
}

/** Records the fault ring remembers: a client retries within seconds, not hours. */
const RECENT = 4096;

function checkShare(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new GeneratorOptionsError(`${name} ${value} must be from 0 to 1`);
  return value;
}

/**
 * The generator as a pure synchronous iterator: every call of next() makes one record. stats()
 * counts exactly what has been returned so far.
 */
export class RecordStream implements IterableIterator<GeneratedRecord> {
  private readonly random: Random;
  private readonly world: World;
  /** Source of the valid lines that bad records and conflicts are made from. */
  private readonly shadow: World;
  private readonly faultRandom: Random;
  private readonly schedule: Schedule;
  private readonly start: number;
  private readonly end: number;
  private readonly maxRecords: number;
  private readonly realTime: boolean;
  private readonly pDuplicate: number;
  private readonly pConflict: number;
  private readonly pBad: number;
  private readonly pLate: number;
  private readonly badKinds: readonly BadKind[];
  private readonly badChoice: WeightedChoice;

  private readonly recentLines: string[] = [];
  private readonly recentUuids: string[] = [];
  private recentNext = 0;

  private readonly counts: GeneratorStats;
  private first = Number.NaN;
  private last = Number.NaN;

  constructor(options: GeneratorOptions = {}) {
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new GeneratorOptionsError(`seed ${seed} must be a whole number from 0 to 4294967295`);
    }
    const rate = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new GeneratorOptionsError(`rate ${rate} must be positive`);
    this.pDuplicate = checkShare('duplicate rate', options.duplicateRate ?? 0);
    this.pConflict = checkShare('conflict rate', options.conflictRate ?? 0);
    this.pBad = checkShare('bad rate', options.badRate ?? 0);
    const late = checkShare('late rate', options.lateRate ?? 0);
    if (this.pDuplicate + this.pConflict + this.pBad > 1) {
      throw new GeneratorOptionsError('duplicate, conflict and bad rates together must be at most 1');
    }
    if (late > LATE_ELIGIBLE_SHARE) {
      throw new GeneratorOptionsError(
        `late rate ${late} is above ${LATE_ELIGIBLE_SHARE.toFixed(2)}, the share of lesson and notification events that can be late`,
      );
    }
    // Late applies to valid events that can be late: scale so the share of all records is asked.
    this.pLate =
      late / LATE_ELIGIBLE_SHARE / Math.max(1e-9, 1 - this.pDuplicate - this.pConflict - this.pBad);
    this.badKinds = options.badKinds ?? (Object.keys(BAD_KINDS) as BadKind[]);
    if (this.badKinds.length === 0) throw new GeneratorOptionsError('at least one bad kind is needed');
    for (const k of this.badKinds) {
      if (!(k in BAD_KINDS)) throw new GeneratorOptionsError(`unknown bad kind ${k}`);
    }
    this.badChoice = new WeightedChoice(this.badKinds.map((k) => BAD_KIND_WEIGHTS[k]));

    this.random = new Random(seed);
    this.world = new World(this.random.fork(), rate);
    this.shadow = new World(this.random.fork(), rate);
    this.faultRandom = this.random.fork();
    this.schedule = new Schedule(rate, options.spikes ?? []);
    this.start = options.start ?? Date.now();
    this.end = options.durationMs === undefined ? Number.POSITIVE_INFINITY : this.start + options.durationMs;
    this.maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    this.realTime = options.realTime ?? false;

    this.counts = {
      seed,
      start: '',
      end: '',
      rate_per_second: rate,
      sink: 'file',
      records: 0,
      unique_events: 0,
      unique_by_name: Object.fromEntries(EVENT_NAMES.map((n) => [n, 0])),
      duplicates: 0,
      conflicts: 0,
      bad: 0,
      bad_by_kind: Object.fromEntries(Object.keys(BAD_KINDS).map((k) => [k, 0])) as Record<BadKind, number>,
      late: 0,
      undelivered: 0,
      retried: 0,
    };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** When the next record is due (epoch ms), or undefined when the stream is over. */
  peekAt(): number | undefined {
    const at = this.start + this.schedule.peek();
    return at >= this.end || this.counts.records >= this.maxRecords ? undefined : at;
  }

  next(): IteratorResult<GeneratedRecord> {
    const due = this.peekAt();
    if (due === undefined) return { done: true, value: undefined };
    this.schedule.take();
    // Integer ms: created_at prints as exact decimal seconds with at most 3 fractional digits.
    const t = Math.floor(this.realTime ? Date.now() : due);
    if (this.counts.records === 0) this.first = t;
    this.last = t;
    this.counts.records++;
    return { done: false, value: { data: this.make(t), at: due } };
  }

  private make(t: number): string | Buffer {
    const c = this.counts;
    const u = this.faultRandom.float();
    const have = this.recentLines.length;
    if (u < this.pDuplicate && have > 0) {
      c.duplicates++;
      return this.recentLines[this.faultRandom.int(have)]!;
    }
    if (u < this.pDuplicate + this.pConflict && u >= this.pDuplicate && have > 0) {
      c.conflicts++;
      const line = this.shadow.next(t);
      return `{"event_uuid":"${this.recentUuids[this.faultRandom.int(have)]}${line.slice(51)}`;
    }
    if (u < this.pDuplicate + this.pConflict + this.pBad && u >= this.pDuplicate + this.pConflict) {
      const kind = this.badKinds[this.badChoice.pick(this.faultRandom)]!;
      c.bad++;
      c.bad_by_kind[kind]++;
      return corrupt(kind, this.shadow.next(t), t, this.faultRandom);
    }
    const world = this.world;
    const line = world.next(t, this.pLate > 0 && this.faultRandom.chance(this.pLate));
    c.unique_events++;
    c.unique_by_name[world.name]!++;
    if (world.late) c.late++;
    if (this.recentLines.length < RECENT) {
      this.recentLines.push(line);
      this.recentUuids.push(world.uuid);
    } else {
      this.recentLines[this.recentNext] = line;
      this.recentUuids[this.recentNext] = world.uuid;
      this.recentNext = (this.recentNext + 1) % RECENT;
    }
    return line;
  }

  /** What has been generated so far (sink fields zero: the sink fills them). */
  stats(sink: GeneratorStats['sink'] = 'file'): GeneratorStats {
    const c = this.counts;
    return {
      ...c,
      sink,
      start: Number.isNaN(this.first) ? '' : new Date(this.first).toISOString(),
      end: Number.isNaN(this.last) ? '' : new Date(this.last).toISOString(),
      unique_by_name: { ...c.unique_by_name },
      bad_by_kind: { ...c.bad_by_kind },
    };
  }
}

/** Records for the options, lazily: `for (const r of generateRecords({ maxRecords: 1000 }))`. */
export function generateRecords(options: GeneratorOptions = {}): RecordStream {
  return new RecordStream(options);
}
