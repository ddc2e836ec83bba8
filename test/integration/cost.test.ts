import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { estimateCost, packing, type Traffic } from '../../cost/model.js';
import { type CostSettings, settingsFromTemplate, type TemplateJson } from '../../cost/template.js';
import { ConfigError, configFromContext, PROFILES, resolveConfig } from '../../infra/config.js';
import { ROOT } from '../../infra/lambda-common.js';
import { synth } from '../infra-synth.js';
import { cliArgv } from '../support/compiled.js';

// The cost calculator: every line against a figure worked by hand, the settings it reads from a
// really synthesized template (change a setting, the figure moves), the recommended profile's
// promise, and the CLI's answers to bad input.

const run = promisify(execFile);

/** A configuration written out by hand, so every figure below can be worked on paper. */
const HAND: CostSettings = {
  delivery: {
    source: 'direct-put',
    deaggregation: true,
    dynamicPartitioning: true,
    bufferSizeMiB: 128,
    bufferIntervalSeconds: 60,
    processorBufferSizeMiB: 1,
    processorBufferIntervalSeconds: 60,
  },
  tables: {
    dedup: {
      name: 'x-dedup',
      id: 'D',
      billing: 'provisioned',
      pointInTimeRecovery: false,
      write: { min: 100, max: 1000, targetUtilization: 50 },
      read: { min: 5, max: 50, targetUtilization: 50 },
    },
    users: { name: 'x-users', id: 'U', billing: 'on-demand', pointInTimeRecovery: true },
    subscriptions: { name: 'x-subscriptions', id: 'S', billing: 'on-demand', pointInTimeRecovery: false },
  },
  dedupTtlHours: 24,
  transform: { name: 'x-transform', memoryMiB: 1024, architecture: 'arm64', ephemeralStorageMiB: 512 },
  compaction: { name: 'x-compaction', memoryMiB: 2048, architecture: 'x86_64', ephemeralStorageMiB: 2560 },
  lake: {
    stagingExpirationDays: 30,
    curatedTransitionDays: 90,
    curatedStorageClass: 'STANDARD_IA',
    noncurrentDays: 30,
  },
  alarms: 10,
  dashboards: 1,
  kmsKeys: 1,
  api: false,
};
const TRAFFIC: Traffic = { eventsPerSecond: 100, eventBytes: 400, pack: 4096, lateShare: 0, months: 12 };

const line = (e: ReturnType<typeof estimateCost>, item: string) => {
  const found = e.lines.find((l) => l.item === item);
  if (!found) throw new Error(`no line ${item}: ${e.lines.map((l) => l.item).join(', ')}`);
  return found.monthly;
};

describe('cost model, line by line against hand-worked figures', () => {
  // 100 events/s for 730 h = 262,800,000 events a month.
  const e = estimateCost(HAND, TRAFFIC);

  it('packs 10 events of 400 bytes into a 4,009-byte record, billed as 5 KB', () => {
    // (4096 + 1) / (400 + 1 newline) = 10.2 -> 10 events; 10 * 401 - 1 = 4,009 bytes.
    expect(packing(400, 4096)).toEqual({ eventsPerRecord: 10, recordBytes: 4009 });
    expect(packing(400, 'off')).toEqual({ eventsPerRecord: 1, recordBytes: 400 });
    // Never more than 500 sub-records, whatever the size allows.
    expect(packing(10, 1_000_000).eventsPerRecord).toBe(500);
    expect(e.eventsPerMonth).toBe(262_800_000);
    expect(e.recordsPerMonth).toBe(26_280_000);
    expect(e.billedBytesPerEvent).toBe(512);
  });

  it('Firehose ingestion: 26.28M records x 5,120 B = 134.55 GB x $0.029 = $3.90', () => {
    expect(line(e, 'ingestion')).toBe(3.9);
  });

  it('dynamic partitioning: 262.8M x 661 B = 173.71 GB x $0.02 + 43,800 windows x 3 objects x $0.005/1000 = $4.13', () => {
    expect(line(e, 'dynamic partitioning')).toBe(4.13);
  });

  it('transform: 100,250 invocations of 2,621 events x 0.705 s x 1 GB arm64 + requests = $0.96', () => {
    // 1 MiB / 400 B = 2,621.44 events; 0.05 + 2,621.44 * 0.00025 = 0.70536 s;
    // 100,250.24 * 0.70536 GB-s * $0.0000133334 = $0.9428, + 0.10025M requests * $0.20 = $0.0201.
    expect(line(e, 'transform')).toBe(0.96);
  });

  it('dedup, provisioned: 200 WCU (100/s at 50%) and the 5 RCU floor, 730 h = $95.37; 2.68 GB of markers without PITR = $0.67', () => {
    // 200 * 730 * $0.00065 = $94.90; 5 * 730 * $0.00013 = $0.4745.
    expect(line(e, 'dedup: reads and writes')).toBe(95.37);
    // 100/s * 24 h * 3600 * 310 B = 2.6784 GB * $0.25.
    expect(line(e, 'dedup: storage')).toBe(0.67);
  });

  it('users, on-demand: 18.92M writes x $0.625/M + 47.83M reads x $0.125/M = $17.80; 0.5 GB with PITR = $0.225', () => {
    expect(line(e, 'users: reads and writes')).toBe(17.8);
    expect(line(e, 'users: storage')).toBe(0.23);
  });

  it('subscriptions, on-demand: 4.73M writes + 52.56M reads = $9.53; 0.5 GB without PITR = $0.125', () => {
    expect(line(e, 'subscriptions: reads and writes')).toBe(9.53);
    expect(line(e, 'subscriptions: storage')).toBe(0.13);
  });

  it('S3: 49.8 GB of staging (60 days) + 2.96 months of curated in Standard, 9.04 months in IA = $5.43; requests $0.71', () => {
    // staging 100 * 86400 * 60 * 96 B = 49.77 GB; curated 262.8M * 90 B = 23.65 GB a month;
    // (49.77 + 23.65 * 2.959) * $0.023 + 23.65 * 9.041 * $0.0125 = $2.754 + $2.673.
    expect(line(e, 'storage')).toBe(5.43);
    // 131,400 objects: a PUT ($0.005/1000) and a GET ($0.0004/1000) each.
    expect(line(e, 'requests')).toBe(0.71);
  });

  it('compaction: 30.4 runs of 108.9 s at 2 GB x86 + 2 GB of extra /tmp = $0.11', () => {
    expect(line(e, 'compaction')).toBe(0.11);
  });

  it('CloudWatch: 14 alarms (4 of autoscaling) + a dashboard + 21 metrics + 0.2 GB of logs = $10.80; KMS $1', () => {
    expect(line(e, 'alarms, dashboard, metrics, logs')).toBe(10.8);
    expect(line(e, 'customer managed keys')).toBe(1);
  });

  it('totals the lines, and divides by 262.8 million events', () => {
    const sum = e.lines.reduce((s, l) => s + l.monthly, 0);
    expect(e.total).toBeCloseTo(sum, 1);
    expect(e.perMillionEvents).toBeCloseTo(e.total / 262.8, 4);
  });

  it('bills one record per event without packing: 262.8M x 5,120 B x $0.029 = $39.02', () => {
    expect(line(estimateCost(HAND, { ...TRAFFIC, pack: 'off' }), 'ingestion')).toBe(39.02);
  });

  it('counts packed records unpacked when the stream cannot split them, and says so', () => {
    const noSplit = estimateCost({ ...HAND, delivery: { ...HAND.delivery, deaggregation: false } }, TRAFFIC);
    expect(line(noSplit, 'ingestion')).toBe(39.02);
    expect(noSplit.warnings.join()).toMatch(/no RecordDeAggregation/);
  });

  it("opens one object per late day's shelf: 1% late at 100/s is 60 late events a window over 4 days", () => {
    // 4 * (1 - e^(-60/4)) = 4.0 extra objects per window (the late shelves of 4 days), 43,800
    // windows: 175,200 objects more * $0.005/1000 = $0.876 more (lines are to the cent). As a minute
    // each, it was $13.05.
    const late = estimateCost(HAND, { ...TRAFFIC, lateShare: 0.01 });
    expect(line(late, 'dynamic partitioning') - line(e, 'dynamic partitioning')).toBeCloseTo(0.876, 1);
    // However many are late: the shelves, not the events, cost objects.
    const veryLate = estimateCost(HAND, { ...TRAFFIC, lateShare: 0.2 });
    expect(line(veryLate, 'dynamic partitioning') - line(late, 'dynamic partitioning')).toBeLessThan(0.01);
  });

  it('warns when a table cannot take its steady load', () => {
    const small = estimateCost(
      {
        ...HAND,
        tables: {
          ...HAND.tables,
          dedup: { ...HAND.tables.dedup, write: { min: 10, max: 50, targetUtilization: 70 } },
        },
      },
      TRAFFIC,
    );
    expect(small.warnings.join()).toMatch(
      /dedup writes: the steady load \(100\/s\) is above the maximum capacity \(50\)/,
    );
  });
});

describe('cost settings from the synthesized template', () => {
  it('reads what the stack deploys: billing, capacity, PITR, Lambda sizes, buffers, lifecycle, alarms', () => {
    const s = settingsFromTemplate(synth().template.toJSON() as TemplateJson);
    expect(s.delivery).toEqual({
      source: 'direct-put',
      deaggregation: true,
      dynamicPartitioning: true,
      bufferSizeMiB: 128,
      bufferIntervalSeconds: 60,
      processorBufferSizeMiB: 1,
      processorBufferIntervalSeconds: 60,
    });
    expect(s.tables.dedup).toMatchObject({ billing: 'on-demand', pointInTimeRecovery: true });
    expect(s.transform).toMatchObject({ memoryMiB: 1024, architecture: 'arm64' });
    expect(s.compaction).toMatchObject({ memoryMiB: 3008, ephemeralStorageMiB: 10240 });
    expect(s.lake).toEqual({
      stagingExpirationDays: 30,
      curatedTransitionDays: 90,
      curatedStorageClass: 'STANDARD_IA',
      noncurrentDays: 30,
    });
    expect(s.dedupTtlHours).toBe(168);
    expect(s.alarms).toBeGreaterThan(10);
  });

  it('moves the figure when a setting of the stack changes', () => {
    const traffic: Traffic = {
      eventsPerSecond: 1_000_000 / 3600,
      eventBytes: 370,
      pack: 5120,
      lateShare: 0,
      months: 12,
    };
    const cost = (config?: Parameters<typeof synth>[0]) =>
      estimateCost(settingsFromTemplate(synth(config).template.toJSON() as TemplateJson), traffic);
    const base = cost();
    const bigger = cost({ transform: { memoryMiB: 2048 } });
    // Twice the GB-seconds; the request charge ($0.05) stays.
    expect(line(bigger, 'transform')).toBeCloseTo((line(base, 'transform') - 0.05) * 2 + 0.05, 1);
    const shorter = cost({ transform: { dedupTtlHours: 24 } });
    expect(line(shorter, 'dedup: storage')).toBeCloseTo(line(base, 'dedup: storage') / 7, 1);
    const noPitr = cost({ tables: { dedupPointInTimeRecovery: false } });
    // $0.25 instead of $0.45 per GB-month.
    expect(line(noPitr, 'dedup: storage') / line(base, 'dedup: storage')).toBeCloseTo(0.25 / 0.45, 2);
    const unsplit = cost({ delivery: { recordDeaggregation: false } });
    expect(line(unsplit, 'ingestion')).toBeGreaterThan(line(base, 'ingestion') * 10);
    const provisioned = cost({
      tables: {
        billing: {
          mode: 'provisioned',
          minRead: 5,
          maxRead: 500,
          minWrite: 1000,
          maxWrite: 2000,
          targetUtilization: 70,
        },
      },
    });
    // A 1,000 WCU floor on each table: 3,000 WCU-hours an hour.
    expect(
      provisioned.lines
        .filter((l) => l.item.endsWith('reads and writes'))
        .map((l) => l.detail)
        .join(),
    ).toMatch(/provisioned: 1,000 WCU/);
    const later = cost({ lake: { stagingExpirationDays: 60 } });
    expect(line(later, 'storage')).toBeGreaterThan(line(base, 'storage'));
  });
});

describe('the recommended-1m profile', () => {
  const s = synth(PROFILES['recommended-1m']);

  it('is chosen with -c firelake:profile=recommended-1m, and other context settings apply on top', () => {
    const context: Record<string, string> = {
      'firelake:profile': 'recommended-1m',
      'firelake:compactionMemoryMiB': '6144',
    };
    const config = resolveConfig(configFromContext((key) => context[key]));
    expect(config.tables.billing).toMatchObject({ mode: 'provisioned', targetUtilization: 85 });
    expect(config.tables.dedupPointInTimeRecovery).toBe(false);
    expect(config.compaction.memoryMiB).toBe(6144);
    const onDemand = resolveConfig(
      configFromContext((key) => ({ ...context, 'firelake:tableBilling': 'on-demand' })[key]),
    );
    expect(onDemand.tables.billing).toEqual({ mode: 'on-demand' });
    expect(() => configFromContext((key) => (key === 'firelake:profile' ? 'cheapest' : undefined))).toThrow(
      ConfigError,
    );
  });

  it('synthesizes cdk-nag clean', () => {
    expect(s.nagErrors()).toEqual([]);
  });

  it('keeps a write floor at the steady load and room for a 5x spike on the dedup table', () => {
    const settings = settingsFromTemplate(s.template.toJSON() as TemplateJson);
    const steady = 1_000_000 / 3600;
    const dedup = settings.tables.dedup.write!;
    expect(dedup.min).toBeGreaterThanOrEqual(steady / (dedup.targetUtilization / 100));
    expect(dedup.max).toBeGreaterThanOrEqual((5 * steady) / (dedup.targetUtilization / 100));
    expect(settings.tables.dedup.pointInTimeRecovery).toBe(false);
    expect(settings.tables.users.pointInTimeRecovery).toBe(true);
  });

  it('costs at most $0.36 per million events at 1M/h with packed records, 1% of them hours late', () => {
    for (const lateShare of [0, 0.01]) {
      const e = estimateCost(settingsFromTemplate(s.template.toJSON() as TemplateJson), {
        eventsPerSecond: 1_000_000 / 3600,
        eventBytes: 370,
        pack: 5120,
        lateShare,
        months: 12,
      });
      expect(e.warnings).toEqual([]);
      expect(e.perMillionEvents, `late share ${lateShare}`).toBeLessThanOrEqual(0.36);
    }
  });
});

describe('firelake cost', () => {
  const cli = (...args: string[]) =>
    run(process.execPath, [...cliArgv(), 'cost', ...args], { cwd: ROOT, env: process.env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('prints <= $0.36 per million events for --rate 1000000/h with the recommended profile, and JSON with --json', async () => {
    const [text, json] = await Promise.all([
      cli('--rate', '1000000/h', '--profile', 'recommended-1m'),
      cli('--profile', 'default', 'recommended-1m', '--json'),
    ]);
    expect(text.code).toBe(0);
    const perMillion = /\*\*per million events\*\* \| \| \| \*\*\$(\d+\.\d+)\*\*/.exec(text.stdout);
    expect(Number(perMillion?.[1])).toBeLessThanOrEqual(0.36);
    const [onDemand, recommended] = JSON.parse(json.stdout) as { estimate: { perMillionEvents: number } }[];
    expect(onDemand!.estimate.perMillionEvents).toBeGreaterThan(recommended!.estimate.perMillionEvents);
  });

  it('refuses bad input with a clear error and a non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [['--rate', '-5/h'], /Expected a rate such as 1000000\/h/],
      [['--rate', 'lots'], /Expected a rate such as 1000000\/h/],
      [['--pack', '2MB'], /Expected off, or a record size/],
      [['--cheap'], /unknown option '--cheap'/],
      [['--profile', 'cheapest'], /no configuration profile "cheapest"/],
      [
        ['-c', 'firelake:stagingExpirationDays=3'],
        /stagingExpirationDays = 3 must exceed compaction.lateWindowDays/,
      ],
    ];
    const outs = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      expect(outs[i]!.code, args.join(' ')).not.toBe(0);
      expect(outs[i]!.stderr, args.join(' ')).toMatch(message);
      expect(outs[i]!.stdout).toBe('');
    }
  }, 120_000);
});
