import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_PACK_BYTES } from '../generator/pack.js';
import { parsePack, parseRate, parseShare } from './options.js';

// `firelake cost`: the monthly bill of the stack `npx cdk deploy` would deploy (cdk.json's
// context, `-c` values and `--profile`), at a traffic, per service and per million events.

interface CostFlags {
  rate: number;
  eventBytes: number;
  pack: number | 'off';
  lateShare: number;
  months: number;
  profile?: string[];
  context: string[];
  json?: boolean;
}

function parseBytes(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 2 || n > 1_024_000) {
    throw new InvalidArgumentError('Expected an event size in bytes, 2 to 1024000.');
  }
  return n;
}

function parseMonths(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 120)
    throw new InvalidArgumentError('Expected whole months, 1 to 120.');
  return n;
}

function collectContext(text: string, previous: string[]): string[] {
  if (!/^[^=]+=/.test(text))
    throw new InvalidArgumentError('Expected key=value, e.g. firelake:tableBilling=provisioned.');
  return [...previous, text];
}

export const costCommand = new Command('cost')
  .description('monthly AWS cost of the configured stack at a traffic, per service and per million events')
  .addOption(
    new Option('--rate <rate>', 'events: 1000000/h, 5000/m, 300/s')
      .argParser(parseRate)
      .default(1_000_000 / 3600, '1000000/h'),
  )
  .addOption(
    new Option('--event-bytes <n>', 'average event size in bytes').argParser(parseBytes).default(370),
  )
  .addOption(
    new Option(
      '--pack <bytes|off>',
      'producers pack events into records of up to this size; off: one per record',
    )
      .argParser(parsePack)
      .default(DEFAULT_PACK_BYTES, '5120'),
  )
  .addOption(
    new Option('--late-share <share>', "share of events over an hour late (staged on their day's late shelf)")
      .argParser(parseShare)
      .default(0.01),
  )
  .addOption(
    new Option('--months <n>', 'months of curated data kept (the bill of month N)')
      .argParser(parseMonths)
      .default(12),
  )
  .option('--profile <name...>', 'configuration profile(s) of infra/config.ts; several print side by side')
  .option('-c, --context <key=value>', 'CDK context, as `cdk -c` (repeatable)', collectContext, [])
  .option('--json', 'the estimate(s) as JSON on stdout')
  .action(async (flags: CostFlags) => {
    // CDK is loaded only by this command.
    const [
      { cdkJsonContext, synthTemplate },
      { settingsFromTemplate },
      { estimateCost },
      format,
      { PRICES },
    ] = await Promise.all([
      import('../cost/synth.js'),
      import('../cost/template.js'),
      import('../cost/model.js'),
      import('../cost/format.js'),
      import('../cost/prices.js'),
    ]);
    const context: Record<string, unknown> = { ...cdkJsonContext() };
    for (const pair of flags.context) {
      const at = pair.indexOf('=');
      context[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const profiles = flags.profile ?? [String(context['firelake:profile'] ?? 'default')];
    const traffic = {
      eventsPerSecond: flags.rate,
      eventBytes: flags.eventBytes,
      pack: flags.pack,
      lateShare: flags.lateShare,
      months: flags.months,
    };
    const estimates = profiles.map((name) => {
      const template = synthTemplate({ ...context, 'firelake:profile': name }, PRICES.region);
      return { name, estimate: estimateCost(settingsFromTemplate(template), traffic) };
    });
    if (flags.json) {
      console.log(JSON.stringify(estimates.length === 1 ? estimates[0] : estimates, null, 2));
    } else {
      console.log(
        estimates.length === 1
          ? format.formatEstimate(estimates[0]!.estimate)
          : format.formatComparison(estimates),
      );
    }
  });
