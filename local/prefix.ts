import { randomInt } from 'node:crypto';
import { FirelakeError } from '../lake/errors.js';

// Firehose S3 prefix expressions and object names, as Firehose evaluates them (docs/firehose.md):
// `!{partitionKeyFromLambda:key}`, `!{timestamp:<Java pattern>}` on the arrival time of the
// oldest record of the object (UTC), `!{firehose:error-output-type}`, `!{firehose:random-string}`.

/** Firehose refuses an evaluated prefix longer than this. */
export const MAX_PREFIX_LENGTH = 512;

const EXPRESSION_RE = /!\{([a-zA-Z]+):([^}]*)\}/g;

export class PrefixEvaluationError extends FirelakeError {
  static override readonly code: string = 'PREFIX_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrefixEvaluationError';
  }
}

export interface PrefixContext {
  /** From the transform's `metadata.partitionKeys`. */
  partitionKeys?: Readonly<Record<string, string>>;
  /** Arrival time (epoch ms) of the oldest record in the object. */
  timestampMs?: number;
  /** `processing-failed`, `partitioning-failed`, ... (error prefix only). */
  errorOutputType?: string;
  /** Source of `!{firehose:random-string}`; injectable so tests are deterministic. */
  randomString?: () => string;
}

/**
 * Evaluates the partition-key expressions only, leaving the others (timestamp, firehose:*) for
 * when the object is written. Records with the same result share a buffer (a partition).
 */
export function evaluatePartitionKeys(
  prefix: string,
  partitionKeys: Readonly<Record<string, string>>,
): string {
  return prefix.replace(EXPRESSION_RE, (whole, namespace: string, arg: string) => {
    if (namespace !== 'partitionKeyFromLambda') return whole;
    const value = partitionKeys[arg];
    if (value === undefined || value === '') {
      throw new PrefixEvaluationError(
        `partition key "${arg}" is missing from the Lambda's metadata.partitionKeys`,
      );
    }
    return value;
  });
}

/** Evaluates every expression of a prefix; throws PrefixEvaluationError as Firehose fails a record. */
export function evaluatePrefix(prefix: string, context: PrefixContext): string {
  const out = prefix.replace(EXPRESSION_RE, (_whole, namespace: string, arg: string) => {
    switch (namespace) {
      case 'partitionKeyFromLambda': {
        const value = context.partitionKeys?.[arg];
        if (value === undefined || value === '') {
          throw new PrefixEvaluationError(
            `partition key "${arg}" is missing from the Lambda's metadata.partitionKeys`,
          );
        }
        return value;
      }
      case 'timestamp':
        if (context.timestampMs === undefined) throw new PrefixEvaluationError('no timestamp to evaluate');
        return formatJavaDate(arg, context.timestampMs);
      case 'firehose':
        if (arg === 'error-output-type') {
          if (!context.errorOutputType) {
            throw new PrefixEvaluationError(
              '!{firehose:error-output-type} is only valid in the error prefix',
            );
          }
          return context.errorOutputType;
        }
        if (arg === 'random-string') return (context.randomString ?? randomString)();
        throw new PrefixEvaluationError(`unknown expression !{firehose:${arg}}`);
      default:
        throw new PrefixEvaluationError(`unknown namespace in !{${namespace}:${arg}}`);
    }
  });
  if (out.length > MAX_PREFIX_LENGTH) {
    throw new PrefixEvaluationError(
      `evaluated prefix is ${out.length} characters, over ${MAX_PREFIX_LENGTH}`,
    );
  }
  return out;
}

const RANDOM_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** 11 random alphanumeric characters, as `!{firehose:random-string}` gives. */
export function randomString(): string {
  let s = '';
  for (let i = 0; i < 11; i++) s += RANDOM_ALPHABET[randomInt(RANDOM_ALPHABET.length)];
  return s;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Formats a UTC instant with a java.time DateTimeFormatter pattern: the letters Firehose users
 * put in prefixes (y, M, d, H, h, m, s, S, D, a), quoted literals ('T', '' for a quote), and
 * any other character as itself. Unsupported letters throw rather than print something wrong.
 */
export function formatJavaDate(pattern: string, epochMs: number): string {
  const d = new Date(epochMs);
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new PrefixEvaluationError(`unterminated quote in timestamp pattern "${pattern}"`);
      out += end === i + 1 ? "'" : pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (!/[a-zA-Z]/.test(c)) {
      out += c;
      i++;
      continue;
    }
    let n = 1;
    while (pattern[i + n] === c) n++;
    out += field(c, n, d, pattern);
    i += n;
  }
  return out;
}

function field(letter: string, width: number, d: Date, pattern: string): string {
  const pad = (v: number, w = width) => String(v).padStart(w, '0');
  switch (letter) {
    case 'y':
    case 'u':
      return width === 2 ? pad(d.getUTCFullYear() % 100, 2) : pad(d.getUTCFullYear());
    case 'M':
      if (width === 3) return MONTHS[d.getUTCMonth()]!;
      if (width > 3) throw new PrefixEvaluationError(`month text "MMMM" is not supported in "${pattern}"`);
      return pad(d.getUTCMonth() + 1);
    case 'd':
      return pad(d.getUTCDate());
    case 'D': {
      const dayOfYear = Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
      return pad(dayOfYear);
    }
    case 'H':
      return pad(d.getUTCHours());
    case 'h':
      return pad(d.getUTCHours() % 12 || 12);
    case 'a':
      return d.getUTCHours() < 12 ? 'AM' : 'PM';
    case 'm':
      return pad(d.getUTCMinutes());
    case 's':
      return pad(d.getUTCSeconds());
    case 'S':
      // Fraction of a second, truncated or zero-extended to the width.
      return pad(d.getUTCMilliseconds(), 3).padEnd(width, '0').slice(0, width);
    default:
      throw new PrefixEvaluationError(
        `timestamp pattern letter "${letter}" is not supported in "${pattern}"`,
      );
  }
}

/**
 * Object name as Firehose writes it:
 * `<prefix><stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><ext>`.
 */
export function objectKey(
  evaluatedPrefix: string,
  stream: { name: string; version: number },
  timestampMs: number,
  uuid: string,
  extension: string,
): string {
  const stamp = formatJavaDate('yyyy-MM-dd-HH-mm-ss', timestampMs);
  return `${evaluatedPrefix}${stream.name}-${stream.version}-${stamp}-${uuid}${extension}`;
}
