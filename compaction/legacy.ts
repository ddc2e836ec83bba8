import type { CuratedTable } from '../iceberg/table.js';
import { PREFIX } from '../lake/layout.js';
import { listAll } from '../lake/store.js';
import { InvalidManifestError } from './errors.js';
import type { Manifest } from './manifest.js';

// A lake compacted before curated was an Iceberg table: each day published by a manifest
// `curated/_manifests/<day>.json` naming its Parquet files. The first compaction (any day) adopts
// them all in one commit: the files stay where they are and are named by the table as they are
// (they carry no field ids; the table's name mapping resolves their columns by name, spec
// "Column Projection"), each manifest becomes its day's record, and the manifests are removed
// once the commit holds. Nothing is rewritten.

/** Adopts every legacy day manifest into the table; returns how many days it adopted. */
export async function adoptDayManifests(table: CuratedTable, log: (line: string) => void): Promise<number> {
  const { store } = table;
  const listed = (await listAll(store, PREFIX.manifests)).filter((o) =>
    /\d{4}-\d{2}-\d{2}\.json$/.test(o.key),
  );
  if (listed.length === 0) return 0;
  const state = await table.state();
  const manifests: Manifest[] = [];
  for (const o of listed) {
    const m = parseLegacy(o.key, await store.get(o.key));
    if (!state?.index.days[m.day]) manifests.push(m);
  }
  if (manifests.length > 0) {
    const result = await table.commit(
      manifests.map((m) => ({ day: m.day, basedOn: undefined, runId: m.run_id, record: m, files: m.files })),
      { log, orphansBefore: new Date(0) },
    );
    log(`adopted ${manifests.length} day(s) compacted before the table into snapshot ${result.snapshotId}`);
  }
  // The table holds every one of these days now (or held it already): their manifests are history.
  await store.delete(listed.map((o) => o.key));
  return manifests.length;
}

function parseLegacy(key: string, bytes: Uint8Array): Manifest {
  let doc: Partial<Manifest>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<Manifest>;
  } catch (error) {
    throw new InvalidManifestError(key, 'not JSON', { cause: error });
  }
  if (doc.format !== 1) throw new InvalidManifestError(key, `format ${String(doc.format)}, expected 1`);
  if (!Array.isArray(doc.files) || !Array.isArray(doc.staging_objects) || typeof doc.run_id !== 'string') {
    throw new InvalidManifestError(key, 'files, staging_objects or run_id missing');
  }
  return doc as Manifest;
}
