// The generator's programmatic API (`firelake generate`, `npm start` and the tests use it).
export {
  DEFAULT_RATE_PER_SECOND,
  type GeneratedRecord,
  type GeneratorOptions,
  GeneratorOptionsError,
  generateRecords,
  RecordStream,
} from './generate.js';
export { type GeneratorProgress, type RunHooks, runGenerator } from './run.js';
export { parseSpike, type Spike, SpikeSyntaxError } from './schedule.js';
export {
  DEFAULT_PACK_BYTES,
  type FirehoseSinkOptions,
  fileSink,
  firehoseSink,
  type Sink,
  type SinkCounters,
  SinkError,
  stdoutSink,
} from './sinks.js';
export { BAD_KINDS, type BadKind, type GeneratorStats } from './stats.js';
