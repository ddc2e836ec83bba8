import { gunzipSync } from 'node:zlib';
import { listAll, type ObjectStore } from '../../lake/store.js';

// Reading the lake back in tests: every line of every object under a prefix, gunzipped.

export interface LakeLine<T = Record<string, unknown>> {
  key: string;
  value: T;
}

export async function readLines<T = Record<string, unknown>>(
  store: ObjectStore,
  prefix: string,
): Promise<LakeLine<T>[]> {
  const out: LakeLine<T>[] = [];
  for (const object of await listAll(store, prefix)) {
    const body = Buffer.from(await store.get(object.key));
    const text = (object.key.endsWith('.gz') ? gunzipSync(body) : body).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.trim() !== '') out.push({ key: object.key, value: JSON.parse(line) as T });
    }
  }
  return out;
}

/** The table's current version and snapshot (undefined: no table): what a commit changes. */
export async function tableHead(
  store: ObjectStore,
): Promise<{ version: number; snapshot: number | undefined } | undefined> {
  const { CuratedTable } = await import('../../iceberg/table.js');
  const state = await new CuratedTable(store).state();
  return state ? { version: state.version.version, snapshot: state.snapshot?.['snapshot-id'] } : undefined;
}
