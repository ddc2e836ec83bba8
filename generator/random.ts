// A small, fast, seedable PRNG: xoshiro128** seeded through splitmix32. Math.random cannot be
// seeded, and a seed must reproduce byte-identical output, UUIDs included.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const UUID_BYTES = Buffer.from('00000000-0000-4000-8000-000000000000', 'latin1');

function hex(out: Buffer, at: number, byte: number): void {
  out[at] = HEX_DIGITS[byte >>> 4]!;
  out[at + 1] = HEX_DIGITS[byte & 0x0f]!;
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const mix = splitmix32(seed);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    // xoshiro must not start from the all-zero state.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next 32 random bits, as an unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A random (version 4) UUID drawn from this generator, so a seed reproduces it. */
  uuid(): string {
    const a = this.u32();
    const b = this.u32();
    const c = this.u32();
    const d = this.u32();
    // Written into bytes and decoded once: one flat string, where concatenating 20 pieces would
    // leave a rope that every write of the line has to flatten again.
    const o = UUID_BYTES;
    hex(o, 0, a >>> 24);
    hex(o, 2, (a >>> 16) & 0xff);
    hex(o, 4, (a >>> 8) & 0xff);
    hex(o, 6, a & 0xff);
    hex(o, 9, b >>> 24);
    hex(o, 11, (b >>> 16) & 0xff);
    hex(o, 14, 0x40 | ((b >>> 8) & 0x0f));
    hex(o, 16, b & 0xff);
    hex(o, 19, 0x80 | ((c >>> 24) & 0x3f));
    hex(o, 21, (c >>> 16) & 0xff);
    hex(o, 24, (c >>> 8) & 0xff);
    hex(o, 26, c & 0xff);
    hex(o, 28, d >>> 24);
    hex(o, 30, (d >>> 16) & 0xff);
    hex(o, 32, (d >>> 8) & 0xff);
    hex(o, 34, d & 0xff);
    return o.toString('latin1', 0, 36);
  }

  /** An independent generator derived from this one (for a stream that must not disturb it). */
  fork(): Random {
    return new Random(this.u32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Picks an index by weight; weights need not sum to 1. */
export class WeightedChoice {
  private readonly cumulative: number[];
  private readonly total: number;

  constructor(weights: readonly number[]) {
    let sum = 0;
    this.cumulative = weights.map((w) => {
      if (!(w >= 0)) throw new RangeError(`weight ${w} must be >= 0`);
      sum += w;
      return sum;
    });
    if (sum <= 0) throw new RangeError('at least one weight must be positive');
    this.total = sum;
  }

  pick(random: Random): number {
    const x = random.float() * this.total;
    const c = this.cumulative;
    for (let i = 0; i < c.length; i++) if (x < c[i]!) return i;
    return c.length - 1;
  }
}
