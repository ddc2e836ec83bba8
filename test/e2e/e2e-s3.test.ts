import { afterAll, beforeAll, describe, it } from 'vitest';
import { S3Store } from '../../lake/s3-store.js';
import { reconcile, runEndToEnd } from '../support/e2e.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3rver('firelake-e2e');
});
afterAll(async () => {
  await s3.close();
});

describe('end to end on an S3 lake (s3rver)', () => {
  it('stages every unique event once and quarantines every bad record and duplicate, as the generator says', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'lake');
    const stats = await runEndToEnd(store);
    await reconcile(store, stats);
  });
});
