import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { FolderStore } from '../lake/folder-store.js';
import { reconcile, runEndToEnd } from './support/e2e.js';

const dir = mkdtempSync(join(tmpdir(), 'firelake-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('end to end on a folder lake', () => {
  it('stages every unique event once and quarantines every bad record and duplicate, as the generator says', async () => {
    const store = new FolderStore(join(dir, 'lake'));
    const stats = await runEndToEnd(store);
    await reconcile(store, stats);
  });
});
