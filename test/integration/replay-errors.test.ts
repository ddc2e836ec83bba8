import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { FolderStore } from '../../lake/folder-store.js';
import { runReplay } from '../../replay/replay.js';
import { useEndpoint } from '../support/replay.js';
import { processingFailedScenario } from '../support/replay-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'firelake-replay-errors-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('firelake replay of processing-failed records on a folder lake', () => {
  it('brings a batch that failed while DynamoDB was unreachable into staging once; reconciliation passes before and after', async () => {
    const store = new FolderStore(join(dir, 'lake'));
    await processingFailedScenario(store, (pipeline, day) => {
      useEndpoint(pipeline);
      return runReplay({
        store,
        sources: ['processing-failed'],
        days: [day],
        streamName: pipeline.streamName,
        pollMs: 200,
        waitTimeoutMs: 60_000,
        log: process.env.DEBUG_REPLAY ? (l) => console.error(l) : undefined,
      });
    });
  }, 240_000); // up to 2.5 min of it waiting out midnight UTC (test/support/clock.ts)
});
