import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { budgets } from '../group-times.js';

// The design lives in docs/: every docs/*.md that code, SQL or a page cites must exist, and every
// relative link of the README and of docs/ must lead to a file of the repository (and to a
// heading of it, when the link names one). The README is the front door: short, linking every
// page of docs/, and naming exactly the commands the CLI registers and the scripts package.json has.

const ROOT = join(import.meta.dirname, '../..');
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
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

const read = (path: string) => readFileSync(path, 'utf8');
const pages = () => [README, ...files(DOCS).filter((f) => f.endsWith('.md'))];

/** The page's text outside fenced code blocks (a `# comment` in a shell block is no heading). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** Relative links of a page: `[text](target#anchor)`, external ones left out. */
function links(page: string): { target: string; anchor?: string }[] {
  const out: { target: string; anchor?: string }[] = [];
  for (const m of prose(read(page)).matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
    out.push({ target: target === '' ? page : resolve(dirname(page), target), anchor: m[2] });
  }
  return out;
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to dashes. */
function anchors(page: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(read(page)).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** The rows of the first Markdown table whose header row starts with `header`. */
function tableRows(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${header} |`));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

interface Registered {
  name: string;
  file: string;
  variable: string;
}

/** The commands cli/index.ts registers: each `xCommand` its COMMANDS table loads, with the name
 * its own file gives it (`new Command('name')`). */
function registered(): Registered[] {
  const index = read(join(ROOT, 'cli', 'index.ts'));
  const out: Registered[] = [];
  for (const m of index.matchAll(
    /^ {2}[\w-]+: \(\) => import\('\.\/([\w-]+)\.js'\)\.then\(\(m\) => m\.(\w+Command)\),$/gm,
  )) {
    const [, file, variable] = m as unknown as [string, string, string];
    const source = read(join(ROOT, 'cli', `${file}.ts`));
    const name = new RegExp(`export const ${variable} = new Command\\('([\\w-]+)'\\)`).exec(source)?.[1];
    if (!name) throw new Error(`cli/${file}.ts: no \`export const ${variable} = new Command('...')\``);
    out.push({ name, file, variable });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Every `firelake <command> --flag ...` the pages show, in code spans and code blocks: the
 * command and the long flags written after it (up to a comment or the next command). */
function shownInvocations(markdown: string): { command: string; flags: string[]; text: string }[] {
  // A shell line ends its command at a pipe, `&&`, `;` or a comment; a code span in prose may
  // hold a `|` of its own (`<name | file.sql>`).
  const spans = [
    ...[...markdown.matchAll(/^(```|~~~)[^\n]*\n([\s\S]*?)^\1/gm)]
      .flatMap((m) => m[2]!.split('\n'))
      .map((line) => line.split(/\s#\s|\||&&|;/)[0]!),
    ...[...prose(markdown).matchAll(/`([^`]+)`/g)].map((m) => m[1]!.split(/&&|;/)[0]!),
  ];
  const out: { command: string; flags: string[]; text: string }[] = [];
  for (const span of spans) {
    for (const m of span.matchAll(/\bfirelake ([a-z][\w-]*)([\s\S]*?)(?=\bfirelake [a-z]|$)/g)) {
      out.push({
        command: m[1]!,
        flags: [...m[2]!.matchAll(/(?<![\w-])--[a-z][\w-]*(?=[\s=\]),]|$)/g)].map((f) => f[0]),
        text: m[0],
      });
    }
  }
  return out;
}

describe('docs', () => {
  it('has every docs/ page that the code, the SQL and the pages cite', () => {
    const missing: string[] = [];
    for (const file of files(ROOT)) {
      for (const m of read(file).matchAll(/\bdocs\/[\w-]+\.md\b/g)) {
        if (!existsSync(join(ROOT, m[0]))) missing.push(`${relative(ROOT, file)}: ${m[0]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('links only to files that exist, and to headings they have, from the README and from docs/', () => {
    const broken: string[] = [];
    for (const page of pages()) {
      for (const { target, anchor } of links(page)) {
        const where = `${relative(ROOT, page)}: ${relative(ROOT, target) || '.'}${anchor ? `#${anchor}` : ''}`;
        if (!existsSync(target)) broken.push(where);
        else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor)) broken.push(where);
      }
    }
    expect(broken).toEqual([]);
  });

  it('cites the design by its page in the repository, never a file outside it', () => {
    const outside = files(ROOT)
      .filter((f) => !f.includes(`${join(ROOT, 'test')}/docs.test.ts`))
      .filter((f) => /\b(DESIGN|FIREHOSE)\.md\b|\.\.\/shared\//.test(read(f)))
      .map((f) => relative(ROOT, f));
    expect(outside).toEqual([]);
  });
});

describe('the README', () => {
  const readme = read(README);

  it('is a front door: under 300 lines', () => {
    expect(readme.split('\n').length).toBeLessThan(300);
  });

  it('leads to every page of docs/, directly or through another page', () => {
    const reached = new Set<string>([README]);
    const queue = [README];
    while (queue.length) {
      for (const { target } of links(queue.shift()!)) {
        if (target.endsWith('.md') && existsSync(target) && !reached.has(target)) {
          reached.add(target);
          queue.push(target);
        }
      }
    }
    const unreached = files(DOCS)
      .filter((f) => f.endsWith('.md') && !reached.has(f))
      .map((f) => relative(ROOT, f));
    expect(unreached).toEqual([]);
  });

  it('names every command the CLI registers in its command table, and no other', () => {
    const named = tableRows(readme, 'command')
      .map((row) => /^`firelake ([\w-]+)/.exec(row[0]!)?.[1])
      .filter((name): name is string => name !== undefined)
      .sort();
    expect(named.length).toBeGreaterThan(0);
    expect(named).toEqual(registered().map((c) => c.name));
  });

  it('names every npm script of package.json in its script table, and no other', () => {
    const scripts = Object.keys(
      (JSON.parse(read(join(ROOT, 'package.json'))) as { scripts: Record<string, string> }).scripts,
    ).sort();
    const named = tableRows(readme, 'npm script')
      .map((row) => /^`npm (?:run )?([\w:-]+)/.exec(row[0]!)?.[1])
      .filter((name): name is string => name !== undefined)
      .sort();
    expect(named).toEqual(scripts);
  });

  it('shows the side-by-side monthly cost under the exact command that prints it', () => {
    const command = '`npx firelake cost --profile default recommended-1m` prints:';
    const after = readme.slice(readme.indexOf(command) + command.length);
    expect(readme).toContain(command);
    expect(after).toMatch(
      /^\n\nMonthly cost at [^\n]+\n[^\n]+\n\n\| service \| item \| default \| recommended-1m \|\n/,
    );
    expect(tableRows(after, 'service').map((row) => row[0])).toContain('**per million events**');
  });
});

/** The backticked names in the first cell of each row of a page's table (flags such as
 * `--stats` aside). */
function firstCellNames(rows: string[][]): string[] {
  return rows.flatMap((row) =>
    [...row[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((name) => !name.startsWith('-')),
  );
}

describe('the pages a person on call reads', () => {
  it('explains every check of the scorecard, and no check that is gone', () => {
    const keys = Object.keys(
      (
        JSON.parse(read(join(ROOT, 'sql', 'quality', 'thresholds.json'))) as {
          checks: Record<string, unknown>;
        }
      ).checks,
    );
    const ids = firstCellNames(tableRows(read(join(DOCS, 'quality.md')), 'check'));
    // `validity.*` in the thresholds is the row `validity.<reason>` of the page.
    const family = (id: string) => id.replace(/<[^>]+>$/, '*');
    const documented = new Set(ids.map(family));
    const undocumented = keys.filter(
      (k) => !documented.has(k) && !documented.has(k.replace(/\.[^.]+$/, '.*')),
    );
    const gone = ids.filter((id) => !keys.includes(family(id)));
    expect({ undocumented, gone }).toEqual({ undocumented: [], gone: [] });
  });

  it('says what to do for every alarm the stack creates, and names no other', async () => {
    const { synth } = await import('../infra-synth.js');
    const alarms = Object.values(synth().resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => (r.Properties as { AlarmName?: unknown }).AlarmName)
      .filter((name): name is string => typeof name === 'string') // autoscaling's own alarms are unnamed
      .map((name) => name.replace(/^firelake-/, ''))
      .sort();
    const rows = firstCellNames(
      tableRows(read(join(DOCS, 'operations.md')), 'alarm (`firelake-...`)'),
    ).sort();
    expect(alarms.length).toBeGreaterThan(0);
    expect(rows).toEqual(alarms);
  }, 60_000);
});

describe('the commands the pages show', () => {
  it('are commands of the CLI, with flags those commands have', async () => {
    const flagsOf = new Map<string, Set<string>>();
    for (const { name, file, variable } of registered()) {
      const mod = (await import(join(ROOT, 'cli', `${file}.ts`))) as Record<
        string,
        { options: { long?: string }[] }
      >;
      flagsOf.set(name, new Set(['--help', ...mod[variable]!.options.map((o) => o.long!)]));
    }
    const wrong: string[] = [];
    let checked = 0;
    for (const page of pages()) {
      for (const { command, flags, text } of shownInvocations(read(page))) {
        const known = flagsOf.get(command);
        checked++;
        if (!known) wrong.push(`${relative(ROOT, page)}: no command "${command}" in: ${text.trim()}`);
        for (const flag of flags.filter((f) => known && !known.has(f))) {
          wrong.push(`${relative(ROOT, page)}: ${command} has no ${flag}, in: ${text.trim()}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(wrong).toEqual([]);
  }, 60_000);
});

describe('the test tree', () => {
  it('keeps every test file in a group that npm test runs: unit, integration or e2e', () => {
    const tests = files(join(ROOT, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => relative(ROOT, f));
    const stray = tests.filter((f) => !/^test\/(unit|integration|e2e)\/[^/]+\.test\.ts$/.test(f));
    expect(stray).toEqual([]);
    expect(tests.length).toBeGreaterThan(50);
  });

  it("gives every test group a budget in docs/testing.md, in the form npm test's reporter reads", () => {
    expect(Object.keys(budgets(read(join(DOCS, 'testing.md')))).sort()).toEqual([
      'e2e',
      'integration',
      'unit',
    ]);
  });
});
