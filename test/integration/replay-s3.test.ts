import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lake/s3-store.js';
import type { ReplayReport } from '../../replay/replay.js';
import { firelakeAsync as firelake } from '../support/cli.js';
import { processingFailedScenario } from '../support/replay-errors.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';

// The same scenario on an S3 lake (s3rver), with the replay run as a user runs it: the CLI, in
// its own process, `--lake s3://...` and `--stream`, the SDK pointed by AWS_ENDPOINT_URL_*.

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3rver('firelake-replay');
});
afterAll(async () => {
  await s3?.close();
});

describe('firelake replay on an S3 lake (s3rver)', () => {
  it('brings a batch that failed while DynamoDB was unreachable into staging once; reconciliation passes before and after', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'lake');
    await processingFailedScenario(store, async (pipeline, day) => {
      const run = await firelake(
        [
          'replay',
          '--lake',
          `s3://${s3.bucket}/lake`,
          '--date',
          day,
          '--source',
          'processing-failed',
          '--stream',
          pipeline.streamName,
          '--json',
        ],
        {
          AWS_ENDPOINT_URL_S3: s3.endpoint,
          AWS_ENDPOINT_URL_FIREHOSE: pipeline.firehoseEndpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
        },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('[replay]');
      return JSON.parse(run.stdout) as ReplayReport;
    });
  }, 240_000); // up to 2.5 min of it waiting out midnight UTC (test/support/clock.ts)
});
