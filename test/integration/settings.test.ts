import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, describe, expect, it } from 'vitest';
import { firehoseClient } from '../../aws/firehose.js';
import { cliSettings } from '../../cli/settings.js';
import { configFromEnv } from '../../compaction/config.js';
import { ConfigError, configFromContext, deploymentConfig, resolveConfig } from '../../infra/config.js';
import { deliveryStreamConfig, LOCAL_DELIVERY } from '../../lake/delivery.js';
import { FolderStore } from '../../lake/folder-store.js';
import {
  DEFAULT_SETTINGS,
  LANGUAGES,
  resolveSettings,
  SETTING_SPECS,
  type SettingKey,
  SettingsError,
  settingsProblems,
} from '../../lake/settings.js';
import { startLocalPipeline } from '../../local/runtime.js';
import { loadTransformConfig } from '../../transform/config.js';
import { firelakeAsync } from '../support/cli.js';
import { readLines } from '../support/lake-read.js';
import { user } from '../transform-fixtures.js';

// The shared settings (lake/settings.ts): their rules hold on every path that reads them (the CDK
// config, the Lambdas' environment, the local runtime, the CLI), and each default is defined once.

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'firelake-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TABLE_ENV = { DEDUP_TABLE: 'd', USERS_TABLE: 'u', SUBSCRIPTIONS_TABLE: 's' };
const TOO_LONG = /must not exceed .* staged late events would never be compacted/;

describe('the rules between the shared settings', () => {
  it('accepts the defaults', () => {
    expect(settingsProblems({ ...DEFAULT_SETTINGS, stagingExpirationDays: 30 }, 'cdk')).toEqual([]);
  });

  it.each([
    [
      { transformLateWindowDays: 8, compactionLateWindowDays: 7 },
      'transform.lateWindowDays = 8 must not exceed compaction.lateWindowDays = 7',
    ],
    [
      { compactionLateWindowDays: 7, stagingExpirationDays: 8 },
      'lake.stagingExpirationDays = 8 must exceed compaction.lateWindowDays + 1 (8)',
    ],
    [{ dedupTtlHours: 0 }, 'transform.dedupTtlHours = 0: expected 1..8760'],
    [{ transformLateWindowDays: 1.5 }, 'transform.lateWindowDays = 1.5: expected a whole number 1..365'],
    [{ compactionLateWindowDays: 61 }, 'compaction.lateWindowDays = 61: expected a whole number 0..60'],
  ] as const)('rejects %j, naming the settings and the rule', (settings, message) => {
    expect(settingsProblems(settings, 'cdk')).toEqual([expect.stringContaining(message)]);
  });

  it('names each setting as the path that read it spells it', () => {
    const s = { transformLateWindowDays: 8, compactionLateWindowDays: 7 };
    expect(settingsProblems(s, 'lambda')[0]).toMatch(
      /^LATE_WINDOW_DAYS = 8 .* COMPACTION_LATE_WINDOW_DAYS = 7/,
    );
    expect(settingsProblems(s, 'local')[0]).toMatch(
      /^FIRELAKE_LATE_WINDOW_DAYS = 8 .* FIRELAKE_COMPACTION_LATE_WINDOW_DAYS = 7/,
    );
    expect(settingsProblems(s, 'local', { compactionLateWindowDays: '--late-window' })[0]).toMatch(
      /FIRELAKE_LATE_WINDOW_DAYS = 8 must not exceed --late-window = 7/,
    );
  });

  it('checks a window boundary as the rule says: equal windows pass, staging one day longer fails', () => {
    expect(settingsProblems({ transformLateWindowDays: 7, compactionLateWindowDays: 7 }, 'cdk')).toEqual([]);
    expect(settingsProblems({ compactionLateWindowDays: 7, stagingExpirationDays: 9 }, 'cdk')).toEqual([]);
    expect(settingsProblems({ compactionLateWindowDays: 7, stagingExpirationDays: 8 }, 'cdk')).toHaveLength(
      1,
    );
  });

  it('throws one SettingsError listing every broken rule', () => {
    expect(() => resolveSettings({ transformLateWindowDays: 9, dedupTtlHours: -1 })).toThrow(SettingsError);
    expect(() => resolveSettings({ transformLateWindowDays: 9, dedupTtlHours: -1 })).toThrow(
      /FIRELAKE_DEDUP_TTL_HOURS = -1.*FIRELAKE_LATE_WINDOW_DAYS = 9 must not exceed/,
    );
  });
});

describe('every path checks them', () => {
  it('the CDK config, from the stack props', () => {
    expect(() => resolveConfig({ transform: { lateWindowDays: 8 } })).toThrow(ConfigError);
    expect(() => resolveConfig({ transform: { lateWindowDays: 8 } })).toThrow(TOO_LONG);
    expect(() => resolveConfig({ compaction: { lateWindowDays: 40 } })).toThrow(
      /lake.stagingExpirationDays = 30 must exceed compaction.lateWindowDays \+ 1 \(41\)/,
    );
  });

  it('the CDK config, from context (-c firelake:<key>=<value>)', () => {
    const context = (values: Record<string, string>) => (key: string) => values[key];
    expect(() => resolveConfig(configFromContext(context({ 'firelake:lateWindowDays': '8' })))).toThrow(
      /transform.lateWindowDays = 8 must not exceed compaction.lateWindowDays = 7/,
    );
    expect(() =>
      resolveConfig(configFromContext(context({ 'firelake:compactionLateWindowDays': '3' }))),
    ).toThrow(/transform.lateWindowDays = 7 must not exceed compaction.lateWindowDays = 3/);
    // Both raised together is a valid configuration, and reaches the config the stack builds from.
    const both = resolveConfig(
      configFromContext(
        context({
          'firelake:lateWindowDays': '10',
          'firelake:compactionLateWindowDays': '10',
          'firelake:dedupTtlHours': '48',
        }),
      ),
    );
    expect([
      both.transform.lateWindowDays,
      both.compaction.lateWindowDays,
      both.transform.dedupTtlHours,
    ]).toEqual([10, 10, 48]);
  });

  it("the transform Lambda's environment at cold start", () => {
    expect(() => loadTransformConfig({ ...TABLE_ENV, LATE_WINDOW_DAYS: '400' })).toThrow(
      /LATE_WINDOW_DAYS = 400: expected a whole number 1..365/,
    );
    expect(() => loadTransformConfig({ ...TABLE_ENV, DEDUP_TTL_HOURS: '9000' })).toThrow(
      /DEDUP_TTL_HOURS = 9000: expected 1..8760/,
    );
    expect(loadTransformConfig(TABLE_ENV)).toMatchObject({
      lateWindowDays: DEFAULT_SETTINGS.transformLateWindowDays,
      dedupTtlHours: DEFAULT_SETTINGS.dedupTtlHours,
    });
  });

  it("the compaction Lambda's environment at cold start", () => {
    expect(() => configFromEnv({ LAKE_BUCKET: 'lake', COMPACTION_LATE_WINDOW_DAYS: '61' })).toThrow(
      /COMPACTION_LATE_WINDOW_DAYS = 61: expected a whole number 0..60/,
    );
    expect(configFromEnv({ LAKE_BUCKET: 'lake', COMPACTION_LATE_WINDOW_DAYS: '0' }).lateWindowDays).toBe(0);
  });

  it('the local runtime, before it starts anything', async () => {
    const dataDir = join(dir, 'refused');
    await expect(
      startLocalPipeline({ dataDir, inMemoryDynamo: true, settings: { transformLateWindowDays: 8 } }),
    ).rejects.toThrow(
      /FIRELAKE_LATE_WINDOW_DAYS = 8 must not exceed FIRELAKE_COMPACTION_LATE_WINDOW_DAYS = 7/,
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it("the local runtime's transform quarantines by the late window it was given", async () => {
    const store = new FolderStore(join(dir, 'lake-window'));
    const pipeline = await startLocalPipeline({
      lake: store,
      inMemoryDynamo: true,
      port: 0,
      settings: { transformLateWindowDays: 2, compactionLateWindowDays: 2 },
    });
    try {
      for (const [k, v] of Object.entries(pipeline.env)) process.env[k] = v;
      const firehose = firehoseClient();
      const now = Date.now();
      const events = [user('a', now - 3 * 86_400_000), user('b', now - 86_400_000)];
      const answer = await firehose.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: pipeline.streamName,
          Records: events.map((e) => ({ Data: Buffer.from(JSON.stringify(e)) })),
        }),
      );
      firehose.destroy();
      expect(answer.FailedPutCount).toBe(0);
      await pipeline.flush();
    } finally {
      await pipeline.close();
    }
    // Three days late: too late for a 2-day window (the default 7 would have staged it).
    const quarantined = await readLines<{ reason: string }>(store, 'quarantine/');
    expect(quarantined.map((q) => q.value.reason)).toEqual(['too_late']);
    expect(await readLines(store, 'staging/')).toHaveLength(1);
  });
});

describe("the delivery stream's settings", () => {
  it('reach the local runtime from a CDK profile, with local buffers', async () => {
    // recommended-1m retries a failed invocation 10 times instead of 3.
    const config = deploymentConfig({ 'firelake:profile': 'recommended-1m' });
    expect(config.delivery.processorRetries).toBe(10);
    const pipeline = await startLocalPipeline({
      lake: new FolderStore(join(dir, 'lake-delivery')),
      inMemoryDynamo: true,
      separateDynamoProcess: false,
      port: 0,
      deliverySettings: config.delivery,
    });
    try {
      expect(pipeline.stream.config).toEqual(deliveryStreamConfig(config.delivery, { runtime: 'local' }));
      expect(pipeline.stream.config.processor.retries).toBe(10);
      expect(pipeline.stream.config.buffering).toEqual(LOCAL_DELIVERY.buffering);
    } finally {
      await pipeline.close();
    }
  });

  it("are cdk.json's for firelake serve and npm start: the defaults, as cdk.json sets none", () => {
    expect(deploymentConfig().delivery).toEqual(resolveConfig().delivery);
    expect(deliveryStreamConfig(deploymentConfig().delivery, { runtime: 'local' })).toEqual(LOCAL_DELIVERY);
  });
});

describe('the CLI refuses a broken rule with the message and a non-zero exit', () => {
  it.concurrent('firelake serve, from FIRELAKE_LATE_WINDOW_DAYS, before it starts anything', async () => {
    const dataDir = join(dir, 'serve-refused');
    const run = await firelakeAsync(['serve', '--data-dir', dataDir, '--port', '0'], {
      FIRELAKE_LATE_WINDOW_DAYS: '10',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /FIRELAKE_LATE_WINDOW_DAYS = 10 must not exceed FIRELAKE_COMPACTION_LATE_WINDOW_DAYS = 7: staged late events/,
    );
    expect(run.stdout).toBe('');
    expect(existsSync(dataDir)).toBe(false);
  });

  it.concurrent('firelake compact --nightly, from its --late-window flag', async () => {
    const run = await firelakeAsync([
      'compact',
      '--nightly',
      '--date',
      '2026-11-20',
      '--late-window',
      '3',
      '--lake',
      join(dir, 'compact-lake'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FIRELAKE_LATE_WINDOW_DAYS = 7 must not exceed --late-window = 3/);
    expect(run.stdout).toBe('');
  });
});

describe('the CLI commands that take the settings', () => {
  // In this process (the two above run as a user runs them): the variables are set for the call.
  async function withEnv<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
    const before = { ...process.env };
    Object.assign(process.env, env);
    try {
      return await run();
    } finally {
      for (const k of Object.keys(env)) {
        if (before[k] === undefined) delete process.env[k];
        else process.env[k] = before[k];
      }
    }
  }

  it('start (npm start) refuses FIRELAKE_COMPACTION_LATE_WINDOW_DAYS below the transform window', async () => {
    const dataDir = join(dir, 'start-refused');
    const { startCommand } = await import('../../cli/start.js');
    const parse = () =>
      startCommand.parseAsync(['--data-dir', dataDir, '--duration', '1m'], { from: 'user' });
    await expect(withEnv({ FIRELAKE_COMPACTION_LATE_WINDOW_DAYS: '3' }, parse)).rejects.toThrow(
      /FIRELAKE_LATE_WINDOW_DAYS = 7 must not exceed FIRELAKE_COMPACTION_LATE_WINDOW_DAYS = 3/,
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('replay refuses a transform late window out of range, before reading the lake', async () => {
    const { replayCommand } = await import('../../cli/replay.js');
    const parse = () =>
      replayCommand.parseAsync(['--date', '2026-11-20', '--lake', join(dir, 'replay-lake')], {
        from: 'user',
      });
    await expect(withEnv({ FIRELAKE_LATE_WINDOW_DAYS: '400' }, parse)).rejects.toThrow(
      /FIRELAKE_LATE_WINDOW_DAYS = 400: expected a whole number 1..365/,
    );
  });

  it('reads a variable that is not a number as an error naming it', () => {
    expect(() => cliSettings({ FIRELAKE_DEDUP_TTL_HOURS: 'a week' })).toThrow(
      /FIRELAKE_DEDUP_TTL_HOURS="a week" is not a positive number/,
    );
    expect(cliSettings({ FIRELAKE_DEDUP_TTL_HOURS: '24' }).dedupTtlHours).toBe(24);
  });

  it("lets a command's flag override its variable, and names the flag", () => {
    const flag = (value: number | undefined) => ({
      compactionLateWindowDays: { flag: '--late-window', value },
    });
    const env = { FIRELAKE_COMPACTION_LATE_WINDOW_DAYS: '3', FIRELAKE_LATE_WINDOW_DAYS: '2' };
    expect(cliSettings(env, flag(undefined)).compactionLateWindowDays).toBe(3);
    expect(cliSettings(env, flag(9)).compactionLateWindowDays).toBe(9);
    expect(() => cliSettings(env, flag(1))).toThrow(
      /FIRELAKE_LATE_WINDOW_DAYS = 2 must not exceed --late-window = 1/,
    );
  });
});

// Each shared default is defined in lake/settings.ts only: a second definition anywhere in the
// source (a literal where the constant belongs) fails here. Tests may spell values out.
describe('each shared default, defined once', () => {
  const SKIP = new Set([
    'node_modules',
    '.git',
    'data',
    'cdk.out',
    '.bench',
    '.test-output',
    '.test-build',
    'test',
  ]);
  const sources = (d: string, out: string[] = []): string[] => {
    for (const name of readdirSync(d)) {
      if (SKIP.has(name)) continue;
      const path = join(d, name);
      if (statSync(path).isDirectory()) sources(path, out);
      else if (name.endsWith('.ts')) out.push(path);
    }
    return out;
  };
  const code = (text: string) => text.replace(/^\s*(\/\/|\*|\/\*).*$/gm, '');
  const quoted = (value: string) => new RegExp(`['"\`]${value.replace(/[./]/g, '\\$&')}['"\`]`);
  // What a second definition looks like, per default, with a copy each must catch (as the code
  // had them before lake/settings.ts).
  const RULES: { what: string; pattern: RegExp; copy: string }[] = [
    {
      what: 'a late window default',
      pattern: /(late_?window)\w*\s*(:|=|\?\?)\s*\d/i,
      copy: 'export const DEFAULT_LATE_WINDOW_DAYS = 7;',
    },
    {
      what: 'the dedup TTL default',
      pattern: /(dedup_?ttl)\w*(\s*(:|=)\s*|[^\n]*\?\?\s*)\d/i,
      copy: 'dedupTtlHours: Number(env.DEDUP_TTL_HOURS ?? 168),',
    },
    { what: 'the data dir', pattern: quoted('./data'), copy: "resolve(options.dataDir ?? './data');" },
    {
      what: 'the default lake',
      pattern: /['"`](\.\/)?data\/lake['"`]/,
      copy: "export const DEFAULT_LAKE = './data/lake';",
    },
    {
      what: 'the lake inside a data dir',
      pattern: /join\([^)]*dataDir[^)]*,\s*['"`]lake['"`]\)/,
      copy: "lake: options.lake ?? join(options.dataDir, 'lake'),",
    },
    {
      what: 'the stream name',
      pattern: quoted('firelake-events'),
      copy: "export const DEFAULT_STREAM_NAME = 'firelake-events';",
    },
    {
      what: 'the stream name built from the prefix',
      pattern: /namePrefix\}-events`/,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the copy is source text, not a template.
      copy: 'this.streamName = `${props.namePrefix}-events`;',
    },
    {
      what: 'a table name',
      pattern: /['"`]firelake-(dedup|users|subscriptions)['"`]|namePrefix\}-\$\{tableId\}/,
      copy: "defaultName: 'firelake-dedup',",
    },
    {
      what: "the transform's function name",
      pattern: /['"`]firelake-transform['"`]|namePrefix\}-transform`|function:firelake-transform/,
      copy: "const logger = new Logger({ serviceName: 'firelake-transform' });",
    },
    {
      what: 'the metrics namespace',
      pattern: /namespace[^\n]*['"`]Firelake['"`]/i,
      copy: "namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Firelake',",
    },
    {
      what: 'the default region',
      pattern: /\?\?\s*['"`]us-east-1['"`]|REGION\s*=\s*['"`]us-east-1['"`]/,
      copy: "this.region = options.region ?? 'us-east-1';",
    },
    {
      what: 'the languages list',
      pattern: new RegExp(`(['"](${LANGUAGES.join('|')})['"],\\s*){4}['"](${LANGUAGES.join('|')})['"]`),
      copy: "export const LANGUAGES = ['es', 'fr', 'de', 'it', 'pt', 'en', 'ja', 'ko', 'zh', 'ru', 'nl', 'sv', 'tr', 'pl'];",
    },
  ];
  const settingsFile = join(ROOT, 'lake', 'settings.ts');
  // The region is the SDK clients' default: aws/ defines it (it imports nothing of Firelake) and
  // lake/settings.ts re-exports it.
  const regionFile = join(ROOT, 'aws', 'region.ts');

  it.each(RULES.map((r) => [r.what, r] as const))('would catch a copy of %s', (_, rule) => {
    expect(rule.pattern.test(rule.copy)).toBe(true);
  });

  it('finds none of them anywhere else in the source', () => {
    const copies: string[] = [];
    for (const file of sources(ROOT)) {
      if (file === settingsFile) continue;
      const text = code(readFileSync(file, 'utf8'));
      for (const rule of RULES) {
        if (file === regionFile && rule.what === 'the default region') continue;
        // Lines, and the file with its line breaks folded (a list formatted one item a line).
        const hit = text.split('\n').find((line) => rule.pattern.test(line));
        const folded = rule.what === 'the languages list' && rule.pattern.test(text.replace(/\n\s*/g, ' '));
        if (hit || folded)
          copies.push(`${relative(ROOT, file)}: ${rule.what}: ${(hit ?? '(a list)').trim()}`);
      }
    }
    expect(copies).toEqual([]);
  });

  it('documents each setting in docs/settings.md: its names on every path and its default', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8');
    const missing: string[] = [];
    for (const key of Object.keys(SETTING_SPECS) as SettingKey[]) {
      const spec = SETTING_SPECS[key];
      for (const name of [spec.cdk, spec.lambdaEnv, spec.localEnv]) {
        if (name !== undefined && !doc.includes(`\`${name}\``)) missing.push(`${key}: ${name}`);
      }
      const value = DEFAULT_SETTINGS[key as keyof typeof DEFAULT_SETTINGS];
      const row = doc.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${spec.cdk}\``));
      if (value !== undefined && !row?.includes(`| ${value} |`)) missing.push(`${key}: default ${value}`);
    }
    expect(missing).toEqual([]);
  });
});
