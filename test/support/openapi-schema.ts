import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

// A schema of an OpenAPI 3.1 document's components as a JSON Schema (2020-12) validator. OpenAPI
// 3.1 schemas are JSON Schema 2020-12 plus a few keywords of its own: `example`, `discriminator`
// (a hint to code generators: the oneOf beside it still decides), `xml`, `externalDocs` are
// dropped, and `nullable: true`, which OpenAPI 3.0 had and this document still uses, becomes
// "or null". `$ref: '#/components/schemas/X'` points into `$defs`; only the schemas the named
// one reaches are compiled.

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

const OPENAPI_ONLY = new Set(['example', 'discriminator', 'xml', 'externalDocs', 'nullable']);
const COMPONENT_REF = '#/components/schemas/';

function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const source = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (OPENAPI_ONLY.has(key)) continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_REF)) {
      out[key] = `#/$defs/${value.slice(COMPONENT_REF.length)}`;
    } else if (key === 'properties' || key === 'patternProperties') {
      // Names of properties, not keywords: only their schemas are converted.
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([n, s]) => [n, toJsonSchema(s)]),
      );
    } else out[key] = toJsonSchema(value);
  }
  return source.nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

function reachable(schemas: Record<string, unknown>, name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  if (!(name in schemas)) throw new Error(`the OpenAPI document has no schema ${name}`);
  seen.add(name);
  JSON.stringify(schemas[name], (key, value: unknown) => {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_REF))
      reachable(schemas, value.slice(COMPONENT_REF.length), seen);
    return value;
  });
  return seen;
}

/** A validator of components.schemas[name] of the OpenAPI document at `path` (YAML). */
export function openApiValidator(path: string, name: string): ValidateFunction {
  const document = parse(readFileSync(path, 'utf8')) as {
    openapi: string;
    components: { schemas: Record<string, unknown> };
  };
  if (!document.openapi.startsWith('3.1.'))
    throw new Error(`${path} is OpenAPI ${document.openapi}; this converter reads 3.1`);
  const { schemas } = document.components;
  const defs = Object.fromEntries([...reachable(schemas, name)].map((n) => [n, toJsonSchema(schemas[n])]));
  // strict: a keyword ajv does not know is an error, so one this converter missed is noticed.
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile({ $defs: defs, $ref: `#/$defs/${name}` });
}
