// Writes events/schemas/*.schema.json from events/schemas.ts (`npm run schemas`). The files are
// for producers and tools outside TypeScript; test/unit/events.test.ts fails when they drift.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envelopeSchema, specificsSchemas } from './schemas.js';

export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'schemas');

export function schemaFiles(): Record<string, string> {
  const all: Record<string, object> = { envelope: envelopeSchema, ...specificsSchemas };
  return Object.fromEntries(
    Object.entries(all).map(([name, schema]) => [
      `${name}.schema.json`,
      `${JSON.stringify(schema, null, 2)}\n`,
    ]),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const [file, text] of Object.entries(schemaFiles())) writeFileSync(join(SCHEMA_DIR, file), text);
  console.error(`wrote ${Object.keys(schemaFiles()).length} schema files to ${SCHEMA_DIR}`);
}
