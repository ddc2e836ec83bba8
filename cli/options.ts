import { InvalidArgumentError } from 'commander';
import type { CuratedTable } from '../iceberg/table.js';
import { parseDay } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';

// Parsers for the flags several commands share. Each throws commander's InvalidArgumentError,
// so a bad flag prints "error: option '--rate <rate>' argument 'x' is invalid. <why>" and exits 1.

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `10m`, `1h`, `1.5h`, `1d` -> milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new InvalidArgumentError('Expected a duration such as 90s, 10m, 1h or 1d.');
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms <= 0) throw new InvalidArgumentError('The duration must be positive.');
  return ms;
}

/** `1000000/h`, `300/s`, `5000/m`, or a bare number of events per hour -> events per second. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|m|h))?$/.exec(text.trim().replace(/_/g, ''));
  if (!m) throw new InvalidArgumentError('Expected a rate such as 1000000/h, 5000/m or 300/s.');
  const perUnit = Number(m[1]);
  const seconds = { s: 1, m: 60, h: 3600 }[(m[2] ?? 'h') as 's' | 'm' | 'h'];
  if (perUnit <= 0) throw new InvalidArgumentError('The rate must be positive.');
  return perUnit / seconds;
}

/** A share between 0 and 1 (`0.01`) or a percentage (`1%`). */
export function parseShare(text: string): number {
  const percent = text.trim().endsWith('%');
  const value = Number(percent ? text.trim().slice(0, -1) : text);
  const share = percent ? value / 100 : value;
  if (!Number.isFinite(share) || share < 0 || share > 1) {
    throw new InvalidArgumentError('Expected a share from 0 to 1 (0.01) or a percentage (1%).');
  }
  return share;
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('Expected a positive whole number.');
  return n;
}

/** An ISO-8601 instant with a time zone (`2026-11-20T00:00:00Z`) -> epoch ms. */
export function parseInstant(text: string): number {
  const ms = Date.parse(text);
  if (!/T.*(Z|[+-]\d{2}:?\d{2})$/.test(text) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('Expected an ISO-8601 time with a zone, e.g. 2026-11-20T00:00:00Z.');
  }
  return ms;
}

/** A UTC day `YYYY-MM-DD`, checked. */
export function parseDayOption(text: string): string {
  try {
    parseDay(text);
    return text;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** `off` (one event per Firehose record), or the largest packed record in bytes: `5120`, `5KB`. */
export function parsePack(text: string): number | 'off' {
  if (text === 'off') return 'off';
  const m = /^(\d+)(KB|KiB)?$/.exec(text.trim());
  const bytes = m ? Number(m[1]) * (m[2] ? 1024 : 1) : Number.NaN;
  if (!(bytes >= 1 && bytes <= 1_024_000)) {
    throw new InvalidArgumentError(
      'Expected off, or a record size in bytes up to 1024000 (e.g. 5120 or 5KB).',
    );
  }
  return bytes;
}

/** `--glue-table DATABASE.TABLE`: the Glue Data Catalog table that commits the curated Iceberg table. */
export function parseGlueTable(text: string): { database: string; table: string } {
  const m = /^([A-Za-z0-9_-]{1,255})\.([A-Za-z0-9_-]{1,255})$/.exec(text);
  if (!m)
    throw new InvalidArgumentError(`"${text}" is not DATABASE.TABLE (e.g. firelake_lake.curated_events)`);
  return { database: m[1]!, table: m[2]! };
}

/** The curated table to commit: through Glue when `--glue-table` names one, else the lake's file-system catalog. */
export async function curatedTableFor(
  store: ObjectStore,
  glue: { database: string; table: string } | undefined,
): Promise<CuratedTable | undefined> {
  if (!glue) return undefined;
  const [{ CuratedTable }, { GlueCatalog }, { glueClient }] = await Promise.all([
    import('../iceberg/table.js'),
    import('../iceberg/glue-catalog.js'),
    import('../aws/glue.js'),
  ]);
  return new CuratedTable(store, new GlueCatalog(store, glueClient(), glue));
}
