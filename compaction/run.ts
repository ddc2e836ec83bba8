import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../lake/store.js';

// One lifecycle for every run that writes curated files (a day, a unit, a fan-out commit, a
// backfill): a work folder, the files it uploaded, and what became of its commit. The files stay
// when the commit holds or its outcome is unknown (only the table can say whether it names
// them: the next commit's orphan sweep decides), and are removed otherwise.

export type CommitOutcome = 'committed' | 'lost' | 'unknown';

export class Run {
  /** Lake keys this run uploaded, recorded before each upload. */
  readonly uploaded: string[] = [];
  outcome: CommitOutcome | undefined;
  /** Set once the files are someone else's to remove: committed, of unknown outcome, or a unit's finished output. */
  keepFiles = false;
  constructor(readonly dir: string) {}
}

export async function withRun<T>(
  options: { store: ObjectStore; workDir: string | undefined; name: string; log: (line: string) => void },
  body: (run: Run) => Promise<T>,
): Promise<T> {
  const run = new Run(join(options.workDir ?? tmpdir(), `firelake-compaction-${options.name}`));
  try {
    await mkdir(run.dir, { recursive: true });
    return await body(run);
  } finally {
    if (!run.keepFiles && run.uploaded.length > 0) {
      // If this cleanup fails too, the next commit of the day removes them as orphans.
      await options.store.delete(run.uploaded).catch((error: unknown) => {
        options.log(
          `could not remove ${run.uploaded.length} uncommitted file(s): ${(error as Error).message}`,
        );
      });
    }
    await rm(run.dir, { recursive: true, force: true });
  }
}
