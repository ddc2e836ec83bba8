import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The import graph of the source, read by the TypeScript compiler: no file imports itself back
// through other files, and no top-level folder imports one that imports it. A cycle means a type
// or an error class lives on the wrong side (docs/design.md, "Code"). Type-only imports count:
// they tie the two sides together as much for a reader. Tests and benchmarks import the source,
// never the other way: the source tree is checked alone, then with test/ and test/support/.

const ROOT = join(import.meta.dirname, '../..');
// The folders tsconfig.json type-checks, less the tests, the benchmarks and the launcher.
const SOURCE_FOLDERS = (
  ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as { include: string[] }
).include.filter((f) => !['test', 'bench', 'bin'].includes(f) && !f.includes('.'));

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Each file's imports of other files of the checkout: static, type-only, re-exports and import(). */
function importGraph(files: readonly string[]): Map<string, Set<string>> {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
  };
  const host = ts.createCompilerHost(options);
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const resolved = ts.resolveModuleName(fileName, file, options, host).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport) continue;
      const target = resolve(resolved.resolvedFileName);
      if (!target.endsWith('.d.ts')) targets.add(target);
    }
    graph.set(resolve(file), targets);
  }
  return graph;
}

/** The cycles of a graph, one per strongly connected component of more than one node (Tarjan). */
function cyclesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const top = stack.pop()!;
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    if (component.length > 1 || graph.get(node)?.has(node)) cycles.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/** The graph between top-level folders: an edge for every file of one importing a file of another. */
function folderGraph(graph: ReadonlyMap<string, ReadonlySet<string>>): Map<string, Set<string>> {
  const folder = (file: string) => relative(ROOT, file).split(sep)[0]!;
  const out = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const edges = out.get(folder(from)) ?? new Set<string>();
    for (const to of targets) if (folder(to) !== folder(from)) edges.add(folder(to));
    out.set(folder(from), edges);
  }
  return out;
}

const rel = (files: string[]) => files.map((f) => relative(ROOT, f) || f);

describe('imports', () => {
  const sources = SOURCE_FOLDERS.flatMap((f) => tsFiles(join(ROOT, f)));
  const graph = importGraph(sources);

  it('reads the import graph of the whole source tree', () => {
    // Floors, so that a reading that silently found nothing fails.
    expect(SOURCE_FOLDERS).toContain('transform');
    expect(graph.size).toBeGreaterThanOrEqual(150);
    const edges = [...graph.values()].reduce((n, s) => n + s.size, 0);
    expect(edges).toBeGreaterThanOrEqual(500);
    // A type-only import and an import() are edges too.
    const transform = graph.get(join(ROOT, 'transform', 'transform.ts'))!;
    expect(transform.has(join(ROOT, 'transform', 'metrics.ts'))).toBe(true);
    const cli = graph.get(join(ROOT, 'cli', 'serve.ts'))!;
    expect(cli.has(join(ROOT, 'local', 'runtime.ts'))).toBe(true);
  });

  it('finds a cycle between files and between folders when there is one', () => {
    const a = new Map([
      ['x/a.ts', new Set(['x/b.ts'])],
      ['x/b.ts', new Set(['y/c.ts'])],
      ['y/c.ts', new Set(['x/a.ts'])],
      ['y/d.ts', new Set<string>()],
    ]);
    expect(cyclesOf(a)).toEqual([['x/a.ts', 'x/b.ts', 'y/c.ts']]);
    expect(cyclesOf(new Map([['x/a.ts', new Set(['x/a.ts'])]]))).toEqual([['x/a.ts']]);
    const folders = new Map([
      ['x', new Set(['y'])],
      ['y', new Set(['x'])],
      ['z', new Set(['x'])],
    ]);
    expect(cyclesOf(folders)).toEqual([['x', 'y']]);
  });

  it('has no cycle between files of the source', () => {
    expect(cyclesOf(graph).map(rel)).toEqual([]);
  });

  it('has no cycle between top-level folders of the source', () => {
    expect(cyclesOf(folderGraph(graph))).toEqual([]);
  });

  it('keeps test code out of the source: no source file imports test/ or bench/', () => {
    const out = [...graph].flatMap(([from, targets]) =>
      [...targets]
        .filter((to) => /^(test|bench)\//.test(relative(ROOT, to)))
        .map((to) => `${relative(ROOT, from)} -> ${relative(ROOT, to)}`),
    );
    expect(out).toEqual([]);
  });

  it('has no cycle among the test support files and the source they import', () => {
    const support = [
      ...tsFiles(join(ROOT, 'test', 'support')),
      ...readdirSync(join(ROOT, 'test'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(ROOT, 'test', f)),
    ];
    expect(support.length).toBeGreaterThanOrEqual(15);
    expect(cyclesOf(importGraph([...sources, ...support])).map(rel)).toEqual([]);
  });
});
