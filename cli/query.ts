import { Command, InvalidArgumentError, Option } from 'commander';
import { openLake } from '../lake/open.js';
import { DEFAULT_LAKE } from '../lake/settings.js';
import type { QueryResult } from '../sql/query.js';
import { parseDayOption } from './options.js';

interface QueryFlags {
  date?: string;
  lake: string;
  json?: boolean;
  csv?: boolean;
  list?: boolean;
  asOf?: { snapshotId?: number; time?: Date };
  snapshots?: boolean;
  dayDocuments?: string;
}

/** `--as-of`: a snapshot id of the curated table, or an ISO-8601 instant (the snapshot current then). */
export function parseAsOf(value: string): { snapshotId?: number; time?: Date } {
  if (/^\d+$/.test(value)) return { snapshotId: Number(value) };
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) {
    throw new InvalidArgumentError(
      `"${value}" is neither a snapshot id nor an ISO-8601 time (2026-11-20T06:00:00Z)`,
    );
  }
  return { time };
}

export const queryCommand = new Command('query')
  .description('run a query of sql/ (analytics/..., quality/...) or any .sql file over a UTC day of the lake')
  .argument('[name|file.sql]', 'a query name (daily_active_users, analytics/sessions) or a .sql file')
  .addOption(new Option('--date <YYYY-MM-DD>', 'the UTC day').argParser(parseDayOption))
  .option('--lake <path|s3://bucket/prefix>', 'the lake', DEFAULT_LAKE)
  .addOption(new Option('--json', 'print rows as JSON').conflicts('csv'))
  .addOption(new Option('--csv', 'print rows as CSV'))
  .option('--list', 'list the queries of sql/')
  .addOption(
    new Option(
      '--as-of <snapshot-id|time>',
      'read curated data as a snapshot of the table held it',
    ).argParser(parseAsOf),
  )
  .option('--snapshots', "list the curated table's snapshots (id, time, operation, days changed)")
  .option(
    '--day-documents <dir>',
    'write the day documents sql/lake/open.sql reads for --date (and 7 days before) to DIR; print their SET VARIABLE line',
  )
  .action(async (name: string | undefined, flags: QueryFlags, command: Command) => {
    if (flags.list) {
      const { listQueries } = await import('../sql/query.js');
      for (const q of await listQueries()) console.log(`${q.name.padEnd(44)}  ${q.description}`);
      return;
    }
    if (flags.snapshots) {
      const { listSnapshots } = await import('../iceberg/table.js');
      const snapshots = await listSnapshots(await openLake(flags.lake));
      if (flags.json) console.log(JSON.stringify(snapshots, null, 2));
      else
        for (const s of snapshots)
          console.log(
            `${s.snapshot_id}  ${s.time}  ${s.operation.padEnd(9)}  ${s.days.join(' ')}${s.current ? '  (current)' : ''}`,
          );
      return;
    }
    if (flags.dayDocuments) {
      if (!flags.date) command.error("error: required option '--date <YYYY-MM-DD>' not specified");
      const { DEFAULT_HISTORY_DAYS, writeDayDocuments } = await import('../sql/runner.js');
      const { resolve } = await import('node:path');
      const docs = await writeDayDocuments(
        await openLake(flags.lake),
        flags.date!,
        DEFAULT_HISTORY_DAYS,
        resolve(flags.dayDocuments),
        flags.asOf,
      );
      console.log(
        `SET VARIABLE manifest_files = [${docs.map((d) => `'${d.replaceAll("'", "''")}'`).join(', ')}]::VARCHAR[];`,
      );
      return;
    }
    if (!name) command.error('error: name a query (firelake query --list shows them) or give a .sql file');
    if (!flags.date) command.error("error: required option '--date <YYYY-MM-DD>' not specified");
    const { runQuery } = await import('../sql/query.js');
    const result = await runQuery({
      store: await openLake(flags.lake),
      day: flags.date!,
      query: name!,
      ...(flags.asOf ? { snapshot: flags.asOf } : {}),
    });
    console.log(
      flags.json ? JSON.stringify(result.rows, null, 2) : flags.csv ? toCsv(result) : toTable(result),
    );
    console.error(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`);
  });

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Math.round(value * 1e6) / 1e6);
  return String(value);
}

export function toTable(result: QueryResult): string {
  const rows = result.rows.map((r) => result.columns.map((c) => cell(r[c])));
  const widths = result.columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(result.columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function toCsv(result: QueryResult): string {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [
    result.columns.map(quote).join(','),
    ...result.rows.map((r) => result.columns.map((c) => quote(cell(r[c]))).join(',')),
  ].join('\n');
}
