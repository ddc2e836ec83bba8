import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The order files start in, for one queue on three workers: the longest first, so that no long
// file starts last and runs alone at the end. Vitest knows each file's duration from the last run
// on this checkout and then orders by it. A clean clone (CI) has none, and vitest would start the
// largest files first: 172 s against 157 s. Without durations, these files go first, the slowest
// of a full run on this machine (2026-11-29, seconds), then the rest by group (e2e, integration,
// unit), largest first. The list only orders: a file missing from it still runs.
const SLOWEST = [
  'test/e2e/iceberg-atomicity.test.ts', // 36-45 alone
  'test/e2e/replay-interrupt.test.ts', // 40
  'test/integration/compaction-fanout.test.ts', // 37
  'test/e2e/local-stop.test.ts', // 36
  'test/integration/replay.test.ts', // 26
  'test/e2e/local-chaos.test.ts', // 23
  'test/integration/quality.test.ts', // 22
  'test/integration/compaction-s3.test.ts', // 14
  'test/integration/compaction.test.ts', // 13
  'test/integration/replay-s3.test.ts', // 13
  'test/integration/backfill.test.ts', // 11
  'test/e2e/live.test.ts', // 11
  'test/e2e/e2e-start.test.ts', // 11
  'test/e2e/report.test.ts', // 11
  'test/integration/cli.test.ts', // 11
];
const GROUPS = ['test/e2e/', 'test/integration/', 'test/unit/'];

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const path = (f: TestSpecification) => relative(root, f.moduleId);
    const key = (f: TestSpecification) => `${f.project.name}:${path(f)}`;
    if (files.every((f) => this.ctx.cache.getFileTestResults(key(f))?.duration !== undefined)) {
      return super.sort(files);
    }
    const rank = (f: TestSpecification) => {
      const slow = SLOWEST.indexOf(path(f));
      if (slow !== -1) return slow;
      const group = GROUPS.findIndex((g) => path(f).startsWith(g));
      return SLOWEST.length + (group === -1 ? GROUPS.length : group);
    };
    const size = (f: TestSpecification) => this.ctx.cache.getFileStats(key(f))?.size ?? 0;
    return [...files].sort((a, b) => rank(a) - rank(b) || size(b) - size(a));
  }
}
