import { type DuckDBStructValue, structValue } from '@duckdb/node-api';
import type { CuratedTable } from '../iceberg/table.js';
import type { NestedField } from '../iceberg/types.js';

/**
 * DuckDB's COPY ... (FIELD_IDS {...}) value for the table's write schema: top-level ids by
 * column, a struct's own id under `__duckdb_field_id` beside its fields' ids.
 */
export function duckdbFieldIds(fields: readonly NestedField[]): DuckDBStructValue {
  return structValue(
    Object.fromEntries(
      fields.map((f) =>
        typeof f.type === 'string'
          ? [f.name, f.id]
          : [f.name, structValue({ __duckdb_field_id: f.id, ...duckdbFieldIds(f.type.fields).entries })],
      ),
    ),
  );
}

/** The field ids a run's Parquet carries: those the table's next commit gives its columns. */
export async function writeFieldIds(table: CuratedTable): Promise<DuckDBStructValue> {
  return duckdbFieldIds(await table.writeSchema());
}
