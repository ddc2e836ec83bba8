import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CommanderError, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { EXIT, failureOf } from '../../cli/errors.js';
import { StatsFileError } from '../../cli/quality.js';
import { CompactionError, ConcurrentRunError, MissingDayError } from '../../compaction/errors.js';
import { FirelakeError } from '../../lake/errors.js';
import { ObjectNotFoundError, PreconditionFailedError } from '../../lake/store.js';
import { FixError } from '../../replay/engine.js';
import { ReplayInputError } from '../../replay/read.js';
import { NoDataError, QueryError } from '../../sql/runner.js';
import { firelake } from '../support/cli.js';

// One error base with a code (lake/errors.ts), and the CLI's one handler (cli/errors.ts) that
// turns an error into stderr and an exit status. Codes: docs/errors.md.

const ROOT = join(import.meta.dirname, '../..');
const SKIP = new Set(['node_modules', '.git', 'data', 'cdk.out', '.bench', '.test-output', 'test']);

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

interface ErrorClass {
  name: string;
  base: string;
  file: string;
  code: string | undefined;
}

/** Every class of the source tree that is an error by name or by its base, as written. */
function errorClasses(): ErrorClass[] {
  const found: ErrorClass[] = [];
  for (const file of sources(ROOT)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:export )?class (\w+) extends (\w+)\s*\{\n([^\n]*)/gm)) {
      const [, name, base, firstLine] = m as unknown as [string, string, string, string];
      if (name === 'FirelakeError' || (!/Error$/.test(name) && !/Error$/.test(base))) continue;
      const code = /^\s*static override readonly code: string = '([A-Z0-9_]+)';$/.exec(firstLine)?.[1];
      found.push({ name, base, file: relative(ROOT, file), code });
    }
  }
  return found;
}

describe('error codes', () => {
  const classes = errorClasses();

  it('finds the error classes of the whole source tree', () => {
    // A floor, so that a scan that silently matched nothing fails.
    expect(classes.length).toBeGreaterThanOrEqual(35);
  });

  it('makes every error class a FirelakeError, directly or through its module base', () => {
    const byName = new Map(classes.map((c) => [c.name, c]));
    const notFirelake = classes.filter((c) => {
      for (let base = c.base, hops = 0; hops < 10; hops++) {
        if (base === 'FirelakeError') return false;
        const parent = byName.get(base);
        if (!parent) return true;
        base = parent.base;
      }
      return true;
    });
    expect(notFirelake.map((c) => `${c.file}: ${c.name} extends ${c.base}`)).toEqual([]);
  });

  it('gives every error class a code of its own, on the first line of its body', () => {
    expect(classes.filter((c) => !c.code).map((c) => `${c.file}: ${c.name}`)).toEqual([]);
    const byCode = new Map<string, string[]>();
    for (const c of classes) byCode.set(c.code!, [...(byCode.get(c.code!) ?? []), `${c.file}: ${c.name}`]);
    expect([...byCode].filter(([, owners]) => owners.length > 1)).toEqual([]);
  });

  it('documents exactly the codes the classes declare in docs/errors.md', () => {
    const page = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    const documented = [...page.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(documented.length).toBe(new Set(documented).size);
    expect(documented.slice().sort()).toEqual(classes.map((c) => c.code!).sort());
  });

  it('puts the class code on every instance, a subclass its own rather than its base', () => {
    const missing = new MissingDayError('2026-11-20', 'staging/', '/lake');
    expect(missing).toBeInstanceOf(CompactionError);
    expect(missing).toBeInstanceOf(FirelakeError);
    expect(missing.code).toBe('DAY_NOT_STAGED');
    expect(Object.hasOwn(missing, 'code')).toBe(true);
    expect(new CompactionError('x').code).toBe('COMPACTION_FAILED');
    expect(new FixError('x').code).toBe('REPLAY_FIX_INVALID');
    expect(new ReplayInputError('x').code).toBe('REPLAY_INPUT_INVALID');
    // Each class still carries the rest: its name, message, cause and own fields.
    const cause = new Error('ENOENT');
    const gone = new ObjectNotFoundError('k', { cause });
    expect([gone.name, gone.message, gone.cause, gone.key, gone.code]).toEqual([
      'ObjectNotFoundError',
      'no object at k',
      cause,
      'k',
      'OBJECT_NOT_FOUND',
    ]);
    expect(new QueryError('sql/x.sql', { cause: new Error('Binder Error') }).message).toBe(
      'sql/x.sql failed: Binder Error',
    );
  });
});

describe("the CLI's error handler", () => {
  it('prints a FirelakeError with its code and message on one line, and exits 1', () => {
    expect(failureOf(new NoDataError('no data for 2026-10-01 under /lake'), {})).toEqual({
      exitCode: EXIT.failure,
      stderr: 'firelake [NO_DATA]: no data for 2026-10-01 under /lake\n',
    });
    expect(EXIT.failure).toBe(1);
  });

  it("adds the cause's message, and the next step for the codes the CLI knows one for", () => {
    const lost = new PreconditionFailedError('manifest/day=2026-11-20.json', { cause: new Error('412') });
    expect(failureOf(lost, {}).stderr).toBe(
      'firelake [PRECONDITION_FAILED]: conditional write to manifest/day=2026-11-20.json failed: the object changed (cause: 412)\n' +
        'firelake: another writer changed the object first; run again\n',
    );
    const conflict = failureOf(new ConcurrentRunError('2026-11-20', 'r1'), {});
    expect(conflict.stderr.split('\n')[1]).toMatch(/^firelake: another run of the day published first/);
    expect(failureOf(new StatsFileError('x.json is not a generator --stats file'), {}).stderr).toBe(
      'firelake [STATS_FILE_INVALID]: x.json is not a generator --stats file\n',
    );
  });

  it('prints an unknown error as its message, exit 1, and its stack only with FIRELAKE_DEBUG', () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(failureOf(bug, {})).toEqual({
      exitCode: 1,
      stderr: 'firelake: cannot read properties of undefined\n',
    });
    const debug = failureOf(bug, { FIRELAKE_DEBUG: '1' });
    expect(debug.exitCode).toBe(1);
    expect(debug.stderr).toContain(bug.stack!);
    expect(failureOf(new NoDataError('none'), { FIRELAKE_DEBUG: '1' }).stderr).toMatch(
      /^firelake \[NO_DATA\]: none\nNoDataError: none\n\s+at /,
    );
    expect(failureOf('a thrown string', {})).toEqual({ exitCode: 1, stderr: 'firelake: a thrown string\n' });
  });

  it("leaves commander's own errors as commander printed them, with commander's status", () => {
    expect(failureOf(new InvalidArgumentError('Expected a rate.'), {})).toEqual({ exitCode: 1, stderr: '' });
    expect(failureOf(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), {})).toEqual({
      exitCode: 0,
      stderr: '',
    });
  });

  it('ends a real run on bad input with the mapped message and status', () => {
    const noLake = join(ROOT, 'no-such-lake-folder');
    const run = firelake('query', 'sessions', '--date', '2026-11-20', '--lake', noLake);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `firelake [NO_DATA]: no lake at ${noLake}: the folder does not exist (give --lake PATH)\n`,
    );
    expect(run.stdout).toBe('');
  });
});
