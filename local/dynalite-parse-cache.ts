import { createRequire } from 'node:module';

// dynalite parses every request's ConditionExpression with a PEG parser: about 40% of its CPU per
// conditional PutItem when profiled under the transform's load, and the transform sends the same
// expression text on every write, only the values differ. This caches the parse by expression
// text, attribute names and value keys: the first parse runs with a marker per value, later ones
// clone that tree with the request's values and mark the same names and values used, exactly as
// a fresh parse would. Expressions whose validation depends on the values themselves (BETWEEN,
// IN, functions other than attribute_(not_)exists) and expressions that fail to parse always take
// dynalite's own path, so every error message stays dynalite's.

interface ParseContext {
  attrNames?: Record<string, string>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, boolean>;
  unusedAttrVals?: Record<string, boolean>;
  isKeyCondition?: boolean;
}
interface Parser {
  parse(text: string, options: { context: ParseContext }): unknown;
}
interface Cached {
  tree: unknown;
  usedNames: string[];
  usedVals: string[];
}

const VALUE_DEPENDENT = /\b(between|in|attribute_type|begins_with|contains|size)\b/i;
const MARK = Symbol('expression attribute value');
const MAX_ENTRIES = 1_000;
let installed = false;

export function cacheConditionParses(): void {
  if (installed) return;
  installed = true;
  const parser = createRequire(import.meta.url)('dynalite/db/conditionParser') as Parser;
  const parse = parser.parse.bind(parser);
  const cache = new Map<string, Cached>();
  parser.parse = (text, options) => {
    const context = options.context;
    if (VALUE_DEPENDENT.test(text)) return parse(text, options);
    const vals = context.attrVals ?? {};
    const key = `${context.isKeyCondition ? 'key' : 'condition'}\u0000${text}\u0000${JSON.stringify(context.attrNames ?? {})}\u0000${Object.keys(vals).sort().join(',')}`;
    let hit = cache.get(key);
    if (!hit) {
      const unusedAttrNames = { ...context.unusedAttrNames };
      const unusedAttrVals = { ...context.unusedAttrVals };
      const markers = Object.fromEntries(Object.keys(vals).map((k) => [k, { [MARK]: k }]));
      let tree: unknown;
      try {
        tree = parse(text, {
          ...options,
          context: { ...context, attrVals: markers, unusedAttrNames, unusedAttrVals },
        });
      } catch {
        return parse(text, options);
      }
      if (typeof tree === 'string') return parse(text, options);
      hit = {
        tree,
        usedNames: Object.keys(context.unusedAttrNames ?? {}).filter((k) => !(k in unusedAttrNames)),
        usedVals: Object.keys(context.unusedAttrVals ?? {}).filter((k) => !(k in unusedAttrVals)),
      };
      if (cache.size < MAX_ENTRIES) cache.set(key, hit);
    }
    for (const k of hit.usedNames) delete context.unusedAttrNames?.[k];
    for (const k of hit.usedVals) delete context.unusedAttrVals?.[k];
    return withValues(hit.tree, vals);
  };
}

function withValues(node: unknown, vals: Record<string, unknown>): unknown {
  if (node === null || typeof node !== 'object') return node;
  const mark = (node as { [MARK]?: string })[MARK];
  if (mark !== undefined) return vals[mark];
  if (Array.isArray(node)) return node.map((n) => withValues(n, vals));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = withValues(v, vals);
  return out;
}
