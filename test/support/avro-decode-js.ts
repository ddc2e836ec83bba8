import { createRequire } from 'node:module';

// The same decoding as avro-decode.py, with Apache's JavaScript Avro implementation (avro-js,
// from apache/avro's lang/js): the reader on a machine without Debian's python3-avro. Output as
// the script prints it: bytes as {"bytes": hex}, a logical date as {"date": "YYYY-MM-DD"}.

interface AvroJsDecoder {
  on(
    event: 'metadata',
    listener: (type: unknown, codec: string, header: { meta: Record<string, Buffer> }) => void,
  ): this;
  on(event: 'data', listener: (record: unknown) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

// Its files module: the package's index also loads a deprecated validator that needs an undeclared
// dependency (underscore).
const avro = createRequire(import.meta.url)('avro-js/lib/files.js') as {
  createFileDecoder(path: string, options?: { decode?: boolean; parseHook?: unknown }): AvroJsDecoder;
};

type Schema =
  | string
  | Schema[]
  | {
      type: string | Schema;
      logicalType?: string;
      fields?: { name: string; type: Schema }[];
      items?: Schema;
      values?: Schema;
    };

/** The name avro-js wraps a union branch's value under: a primitive's, or a named type's. */
function branchName(schema: Schema | undefined): string | undefined {
  if (schema === undefined || Array.isArray(schema)) return undefined;
  if (typeof schema === 'string') return schema;
  const named = schema as { name?: string; type: unknown };
  return named.name ?? (typeof named.type === 'string' ? named.type : undefined);
}

function plain(value: unknown, schema: Schema): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(schema)) {
    // A union (Iceberg's only unions are [null, T]): avro-js wraps its value as {branch: value}.
    const branch = schema.find((s) => s !== 'null');
    const keys =
      value !== null && typeof value === 'object' && !Buffer.isBuffer(value) ? Object.keys(value) : [];
    const inner =
      keys.length === 1 && branchName(branch) === keys[0]
        ? (value as Record<string, unknown>)[keys[0]!]
        : value;
    return branch === undefined ? inner : plain(inner, branch);
  }
  if (typeof schema === 'string') return Buffer.isBuffer(value) ? { bytes: value.toString('hex') } : value;
  if (schema.logicalType === 'date' && typeof value === 'number') {
    return { date: new Date(value * 86_400_000).toISOString().slice(0, 10) };
  }
  if (schema.type === 'record' && schema.fields) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(schema.fields.map((f) => [f.name, plain(record[f.name], f.type)]));
  }
  if (schema.type === 'array' && schema.items)
    return (value as unknown[]).map((v) => plain(v, schema.items!));
  if (schema.type === 'map' && schema.values) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plain(v, schema.values!)]),
    );
  }
  if (typeof schema.type !== 'string' || ['record', 'array', 'map'].includes(schema.type))
    return plain(value, schema.type as Schema);
  return plain(value, schema.type);
}

export async function decodeWithAvroJs(
  paths: readonly string[],
): Promise<{ path: string; meta: Record<string, string>; records: Record<string, unknown>[] }[]> {
  const out = [];
  for (const path of paths) {
    const decoded = await new Promise<{ meta: Record<string, string>; records: Record<string, unknown>[] }>(
      (resolve, reject) => {
        let meta: Record<string, string> = {};
        let schema: Schema = 'null';
        const records: Record<string, unknown>[] = [];
        avro
          .createFileDecoder(path)
          .on('metadata', (_type, _codec, header) => {
            meta = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString('utf8')]));
            schema = JSON.parse(meta['avro.schema'] ?? '"null"') as Schema;
          })
          .on('data', (r) => {
            try {
              records.push(plain(r, schema) as Record<string, unknown>);
            } catch (error) {
              reject(error);
            }
          })
          .on('end', () => resolve({ meta, records }))
          .on('error', reject);
      },
    );
    out.push({ path, ...decoded });
  }
  return out;
}
