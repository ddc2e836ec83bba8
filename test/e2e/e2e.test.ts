import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../../lake/folder-store.js';
import { type EndToEndRun, reconcile, runEndToEnd } from '../support/e2e.js';
import { readLines } from '../support/lake-read.js';

const dir = mkdtempSync(join(tmpdir(), 'firelake-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('end to end on a folder lake', () => {
  const packed = new FolderStore(join(dir, 'lake'));
  let run: EndToEndRun | undefined;

  it('stages every unique event once and quarantines every bad record and duplicate, as the generator says', async () => {
    run = await runEndToEnd(packed);
    await reconcile(packed, run);
  });

  it('reconciles the same events packed (the default) and one per record, with several times fewer Firehose records packed', async () => {
    const single = new FolderStore(join(dir, 'single'));
    const one = await runEndToEnd(single, 0);
    await reconcile(single, one);
    const uuids = async (store: FolderStore) =>
      (await readLines<{ event_uuid: string }>(store, 'staging/')).map((l) => l.value.event_uuid).sort();
    expect(await uuids(packed)).toEqual(await uuids(single));
    expect(one.firehose.incomingRecords).toBe(one.records - one.undelivered);
    expect(run!.firehose.incomingRecords * 5).toBeLessThan(one.firehose.incomingRecords);
  });
});
