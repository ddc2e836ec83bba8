import { readFile, writeFile } from 'node:fs/promises';
import {
  type DuckDBConnection,
  DuckDBTypeId,
  LIST,
  listValue,
  StatementType,
  VARCHAR,
} from '@duckdb/node-api';
import { type DuckDb, openDuckDb, sqlFile } from '../lake/duckdb.js';
import { ReplayInputError } from './read.js';

// DuckDB for one replay: the selection (replay/sql/select.sql over what replay/read.ts read), the
// view `quarantined` a --fix file reads, and the fix itself, checked before anything is sent.

export class FixError extends ReplayInputError {
  static override readonly code: string = 'REPLAY_FIX_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FixError';
  }
}

export interface SelectionRow {
  source: string;
  reason: string;
  lines: number;
  tombstones: number;
  replay_outcomes: number;
  selected: number;
}

export interface SelectedRecord {
  origin: string;
  source: string;
  reason: string;
  event_uuid: string | null;
  arrival_ms: number | null;
}

/** One record the replay would send: its text and, when the fix kept it, its origin. */
export interface OutputRow {
  origin: string | null;
  payload: string | null;
}

const SQL = {
  select: sqlFile(new URL('./sql/select.sql', import.meta.url)),
  summary: sqlFile<Record<string, never>, SelectionRow>(new URL('./sql/summary.sql', import.meta.url)),
  unfixed: sqlFile(new URL('./sql/unfixed.sql', import.meta.url)),
};

export class ReplayEngine {
  private fixSql: string | undefined;
  private fixReturnsOrigin = false;

  private readonly connection: DuckDBConnection;

  private constructor(private readonly db: DuckDb) {
    this.connection = db.connection;
  }

  static async open(): Promise<ReplayEngine> {
    return new ReplayEngine(await openDuckDb());
  }

  /** Runs replay/sql/select.sql over a candidates file (replay/read.ts). */
  async select(file: string, reasons: readonly string[], eventName: string | null): Promise<SelectionRow[]> {
    await this.db.script(
      SQL.select,
      { file, reasons: listValue([...reasons]), event_name: eventName },
      { reasons: LIST(VARCHAR) },
    );
    return this.db.rows(SQL.summary);
  }

  /**
   * Checks a --fix file against the view `quarantined` (select() must have run, on an empty
   * file if need be): one SELECT statement that parses and binds, with a text column `payload`.
   */
  async checkFix(path: string): Promise<void> {
    let sql: string;
    try {
      sql = await readFile(path, 'utf8');
    } catch (error) {
      throw new FixError(`cannot read the fix ${path}: ${(error as Error).message}`, { cause: error });
    }
    let statements: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
    try {
      statements = await this.connection.extractStatements(sql);
    } catch (error) {
      throw new FixError(`the fix ${path} does not parse: ${firstLine(error)}`);
    }
    if (statements.count !== 1) {
      throw new FixError(`the fix ${path} must be one SELECT statement, it has ${statements.count}`);
    }
    let prepared: Awaited<ReturnType<typeof statements.prepare>>;
    try {
      prepared = await statements.prepare(0);
    } catch (error) {
      throw new FixError(`the fix ${path} does not run against the view quarantined: ${firstLine(error)}`);
    }
    if (prepared.statementType !== StatementType.SELECT) {
      throw new FixError(
        `the fix ${path} must be a SELECT (over the view quarantined), not another statement`,
      );
    }
    const columns = Array.from({ length: prepared.columnCount }, (_, i) => ({
      name: prepared.columnName(i),
      type: prepared.columnTypeId(i),
    }));
    const payload = columns.find((c) => c.name === 'payload');
    if (!payload) {
      throw new FixError(
        `the fix ${path} returns no column named payload (it returns ${columns.map((c) => c.name).join(', ') || 'nothing'})`,
      );
    }
    if (payload.type !== DuckDBTypeId.VARCHAR) {
      throw new FixError(
        `the fix ${path} returns payload as ${DuckDBTypeId[payload.type]}: it must be text (VARCHAR or JSON), e.g. to_json(...)::VARCHAR`,
      );
    }
    const origin = columns.find((c) => c.name === 'origin');
    if (origin && origin.type !== DuckDBTypeId.VARCHAR) {
      throw new FixError(
        `the fix ${path} returns origin as ${DuckDBTypeId[origin.type]}: keep it as quarantined has it`,
      );
    }
    prepared.destroySync();
    this.fixSql = sql;
    this.fixReturnsOrigin = Boolean(origin);
  }

  /** Every selected record: origin, source, reason, uuid and failed arrival, in read order. */
  async selected(): Promise<SelectedRecord[]> {
    const reader = await this.connection.runAndReadAll(
      'SELECT origin, source, reason, event_uuid, arrival_ms FROM selected ORDER BY seq',
    );
    return (reader.getRowObjectsJson() as Record<string, unknown>[]).map((r) => ({
      origin: String(r.origin),
      source: String(r.source),
      reason: String(r.reason),
      event_uuid: typeof r.event_uuid === 'string' ? r.event_uuid : null,
      arrival_ms: r.arrival_ms === null || r.arrival_ms === undefined ? null : Number(r.arrival_ms),
    }));
  }

  /** The records to send: the fix's rows, or every selected record as it is. */
  async output(): Promise<OutputRow[]> {
    let reader: Awaited<ReturnType<DuckDBConnection['runAndReadAll']>>;
    try {
      reader = await this.connection.runAndReadAll(this.fixSql ?? SQL.unfixed.text);
    } catch (error) {
      throw new FixError(`the fix failed: ${firstLine(error)}`);
    }
    const withOrigin = this.fixSql === undefined || this.fixReturnsOrigin;
    return (reader.getRowObjectsJson() as Record<string, unknown>[]).map((r) => ({
      origin: withOrigin && typeof r.origin === 'string' ? r.origin : null,
      payload: typeof r.payload === 'string' ? r.payload : null,
    }));
  }

  close(): void {
    this.db.close();
  }
}

/** An empty candidates file: the view exists before the lake is read, so a fix is checked first. */
export async function writeEmptyCandidates(path: string): Promise<void> {
  await writeFile(path, '');
}

/** DuckDB's message, first line, without the binding's own prefix. */
function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .replace(/^Failed to (extract statements|prepare statement): /, '');
}
