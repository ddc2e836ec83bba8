// Generator throughput in simulated time (`--fast`), to an NDJSON file in the temp folder:
// events/s of wall clock and per CPU-second (the machine is shared: the CPU figure is the one
// that does not move with the neighbours' load), beside two floors measured in the same run:
// the generator alone with no output, and the file sink alone writing already-made lines.
// Target: >= 50,000 events/s to a file (a simulated day of 24M events in under 8 minutes).
//
//   npm run bench generator          (FIRELAKE_BENCH_EVENTS=1000000 by default)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSink, type GeneratorOptions, generateRecords, runGenerator } from '../generator/index.js';
import { peakRssMiB, report } from './report.js';

const EVENTS = Number(process.env.FIRELAKE_BENCH_EVENTS ?? 1_000_000);
const TARGET_EVENTS_PER_S = 50_000;
const DAY_EVENTS = 24_000_000;
const START = Date.parse('2026-11-20T00:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'firelake-bench-generator-'));

interface Timing {
  events: number;
  wallS: number;
  cpuS: number;
}

async function timed(events: number, run: () => Promise<unknown> | unknown): Promise<Timing> {
  (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const began = performance.now();
  await run();
  const wallS = (performance.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  return { events, wallS, cpuS: (used.user + used.system) / 1e6 };
}

const perS = (t: Timing) => t.events / t.wallS;
const perCpuS = (t: Timing) => t.events / t.cpuS;

try {
  const plain: GeneratorOptions = { seed: 1, start: START, maxRecords: EVENTS };
  const faulty: GeneratorOptions = {
    ...plain,
    duplicateRate: 0.01,
    conflictRate: 0.005,
    badRate: 0.01,
    lateRate: 0.01,
    // Oversized records are 1 MB of padding each: a bench of the generator, not of the disk.
    badKinds: ['invalid_json', 'invalid_utf8', 'wrong_type', 'missing_field', 'unknown_event', 'too_old'],
  };

  console.error(`generator: ${EVENTS.toLocaleString('en-US')} events per contender`);
  const alone = await timed(EVENTS, () => {
    let bytes = 0;
    for (const r of generateRecords(plain)) bytes += r.data.length;
    return bytes;
  });

  const file = join(dir, 'events.ndjson');
  const toFile = await timed(EVENTS, () => runGenerator(plain, fileSink(file)));
  const fileBytes = statSync(file).size;

  const faultyFile = join(dir, 'faulty.ndjson');
  const withFaults = await timed(EVENTS, () => runGenerator(faulty, fileSink(faultyFile)));

  // The sink floor: the same number of lines, made beforehand, through the same file sink.
  const sample = [...generateRecords({ ...plain, maxRecords: 100_000 })].map((r) => r.data);
  const floorFile = join(dir, 'floor.ndjson');
  const floor = await timed(EVENTS, async () => {
    const sink = fileSink(floorFile);
    for (let i = 0; i < EVENTS; i++) {
      const wait = sink.write(sample[i % sample.length]!);
      if (wait) await wait;
    }
    await sink.close();
  });

  report('generator', {
    events: EVENTS,
    file_events_per_s: Math.round(perS(toFile)),
    file_events_per_cpu_s: Math.round(perCpuS(toFile)),
    file_mib_per_s: fileBytes / 1024 / 1024 / toFile.wallS,
    bytes_per_event: fileBytes / EVENTS,
    faults_file_events_per_s: Math.round(perS(withFaults)),
    faults_file_events_per_cpu_s: Math.round(perCpuS(withFaults)),
    generate_only_events_per_s: Math.round(perS(alone)),
    generate_only_events_per_cpu_s: Math.round(perCpuS(alone)),
    sink_floor_events_per_s: Math.round(perS(floor)),
    ratio_file_to_sink_floor: perS(toFile) / perS(floor),
    simulated_day_minutes: DAY_EVENTS / perS(toFile) / 60,
    simulated_day_cpu_minutes: DAY_EVENTS / perCpuS(toFile) / 60,
    target_events_per_s: TARGET_EVENTS_PER_S,
    target_met:
      perS(toFile) >= TARGET_EVENTS_PER_S ? 'yes' : 'no (see per-CPU figure if the machine is loaded)',
    peak_rss_mib: peakRssMiB(),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
