// The generator's programmatic API (`firelake generate`, `npm start` and the tests use it).

export { type FirehoseSinkOptions, firehoseSink } from './firehose-sink.js';
export {
  DEFAULT_RATE_PER_SECOND,
  type GeneratedRecord,
  type GeneratorOptions,
  GeneratorOptionsError,
  generateRecords,
  RecordStream,
} from './generate.js';
export { DEFAULT_PACK_BYTES } from './pack.js';
export { type GeneratorProgress, type RunHooks, runGenerator } from './run.js';
export { parseSpike, type Spike, SpikeSyntaxError } from './schedule.js';
export { fileSink, type Sink, type SinkCounters, SinkError, stdoutSink } from './sinks.js';
export { BAD_KINDS, type BadKind, type GeneratorStats } from './stats.js';
