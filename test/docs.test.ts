import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The design lives in docs/: every docs/*.md that code, SQL or a page cites must exist, and every
// relative link of the README and of docs/ must lead to a file of the repository.

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', '.git', 'data', 'cdk.out', '.bench', '.test-output']);

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.(ts|sql|md|js)$/.test(name)) out.push(path);
  }
  return out;
}

describe('docs', () => {
  it('has every docs/ page that the code, the SQL and the pages cite', () => {
    const missing: string[] = [];
    for (const file of files(ROOT)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bdocs\/[\w-]+\.md\b/g)) {
        if (!existsSync(join(ROOT, m[0]))) missing.push(`${relative(ROOT, file)}: ${m[0]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('links only to files that exist, from the README and from docs/', () => {
    const pages = [join(ROOT, 'README.md'), ...files(join(ROOT, 'docs'))];
    const broken: string[] = [];
    for (const page of pages) {
      for (const m of readFileSync(page, 'utf8').matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
        if (!existsSync(join(dirname(page), target))) broken.push(`${relative(ROOT, page)}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('cites the design by its page in the repository, never a file outside it', () => {
    const outside = files(ROOT)
      .filter((f) => !f.includes(`${join(ROOT, 'test')}/docs.test.ts`))
      .filter((f) => /\b(DESIGN|FIREHOSE)\.md\b|\.\.\/shared\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(outside).toEqual([]);
  });
});
