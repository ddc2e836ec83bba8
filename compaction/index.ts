// The compaction's public surface, for the CLI, the Lambda handler and `npm start`.

export { DEFAULT_FILE_SIZE_BYTES, DEFAULT_ROW_GROUP_SIZE } from './build.js';
export { CrossUnitDuplicateError, commitDay, UnitMissingError } from './commit.js';
export { type CompactDayOptions, type CompactionSummary, compactDay } from './compact.js';
export * from './errors.js';
export { currentFiles, type Manifest, readManifest } from './manifest.js';
export {
  compactNightly,
  type DayOutcome,
  type NightlyOptions,
  type NightlySummary,
} from './nightly.js';
export { type FanOutPlan, planDay } from './plan.js';
export { createCuratedView, curatedLocalPaths } from './read.js';
export { compactUnit } from './unit.js';
export { DEFAULT_UNIT_BYTES } from './unit-size.js';
export { compactDayWithWorkers, UnitFailedError, type WorkersOptions } from './workers.js';
