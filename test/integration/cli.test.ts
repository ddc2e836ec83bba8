import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firelake } from '../support/cli.js';

// cli/index.ts loads a command's module only when that command runs (the fast path); `--help`
// and an unknown command load them all (the plain way). Both must offer the same commands.
const CLI = join(import.meta.dirname, '../../cli');

/** Every command a cli/*.ts file defines: `export const xCommand = new Command('name')`. */
const defined = readdirSync(CLI)
  .filter((f) => f.endsWith('.ts'))
  .flatMap((f) => [
    ...readFileSync(join(CLI, f), 'utf8').matchAll(/export const \w+Command = new Command\('([\w-]+)'\)/g),
  ])
  .map((m) => m[1]!)
  .sort();

describe('the firelake command line', () => {
  it('lists every command a cli/ file defines in --help', () => {
    const help = firelake('--help');
    expect(help.code).toBe(0);
    const listed = [...help.stdout.matchAll(/^ {2}([\w-]+) /gm)]
      .map((m) => m[1]!)
      .filter((n) => n !== 'help');
    expect(defined.length).toBeGreaterThanOrEqual(10);
    expect(listed.sort()).toEqual(defined);
  });

  it('runs a command with only its own module loaded, with the same help the full listing gives it', () => {
    const alone = firelake('quality', '--help');
    const viaHelp = firelake('help', 'quality');
    expect(alone.code).toBe(0);
    expect(alone.stdout).toMatch(/^Usage: firelake quality \[options\]/);
    expect(viaHelp.stdout).toBe(alone.stdout);
  });

  it('names an unknown command and exits non-zero', () => {
    const r = firelake('nosuch');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown command 'nosuch'");
  });

  it('refuses a --lake that names no folder or bucket, saying what it expects', () => {
    const bucket = firelake('quality', '--lake', 's3://A', '--date', '2026-11-20');
    expect(bucket.code).toBe(1);
    expect(bucket.stderr).toContain('"s3://A" does not name an S3 bucket: expected s3://bucket[/prefix]');
    const scheme = firelake('query', 'sessions', '--lake', 'ftp://x', '--date', '2026-11-20');
    expect(scheme.code).toBe(1);
    expect(scheme.stderr).toContain('unsupported lake "ftp://x": give a folder path or s3://bucket[/prefix]');
  });

  // The tests run the CLI compiled ahead (test/support/compiled.ts, the fast path); users run it
  // through tsx (bin/firelake.js, the plain way): the same answers, on success and on bad input.
  it('answers the same compiled ahead as through bin/firelake.js', () => {
    const viaBin = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['bin/firelake.js', ...args], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    for (const args of [['--help'], ['cost', '--json', '--rate', '2000/h'], ['generate', '--rate', 'lots']]) {
      const compiled = firelake(...args);
      const plain = viaBin(...args);
      expect(compiled, args.join(' ')).toEqual(plain);
    }
  });
});
