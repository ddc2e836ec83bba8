import { isAbsolute, relative } from 'node:path';

// How `npm start` shows figures and the lake to a person (start.ts, cli/start.ts).

export function duckdbCommands(location: string): string[] {
  const base = location.startsWith('s3://')
    ? location.replace(/\/$/, '')
    : isAbsolute(location) && !relative(process.cwd(), location).startsWith('..')
      ? relative(process.cwd(), location) || '.'
      : location;
  return [
    // Curated is an Iceberg table: a glob of its folder would also read files of earlier snapshots.
    `duckdb -c "INSTALL iceberg; LOAD iceberg; SELECT language, count(*) AS events FROM iceberg_scan('${base}/curated/events') GROUP BY ALL ORDER BY 2 DESC"`,
    `duckdb -c "SELECT event_name, count(*) AS events FROM read_json_auto('${base}/staging/**/*.gz') GROUP BY ALL ORDER BY 2 DESC"`,
    `duckdb -c "SELECT reason, count(*) AS records FROM read_json_auto('${base}/quarantine/**/*.gz') GROUP BY ALL ORDER BY 2 DESC"`,
  ];
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${(ms / 1000).toFixed(0)} s`;
}
