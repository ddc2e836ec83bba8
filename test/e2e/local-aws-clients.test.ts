import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../../lake/folder-store.js';
import { readLines } from '../support/lake-read.js';
import { type ServeProcess, startServe, validEvents } from '../support/serve-process.js';

// Any AWS client works with `firelake serve` from its export lines alone: boto3 and the AWS CLI
// (v1 from pip, v2 from Debian's awscli where installed), not only the JS SDK. Each producer
// runs as its own process with no AWS settings but the export lines (no config files).

const root = mkdtempSync(join(tmpdir(), 'firelake-clients-'));
const dataDir = join(root, 'data');
let serve: ServeProcess;

beforeAll(async () => {
  serve = await startServe(dataDir);
}, 60_000);
afterAll(() => {
  if (serve?.child.exitCode === null) serve.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** Only PATH and the export lines: what a producer's shell has after pasting them. */
function producerEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: root,
    AWS_CONFIG_FILE: join(root, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-credentials'),
    ...serve.env,
  };
}

const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
if (!hasBoto3) console.error('SKIPPED: the boto3 producer test (python3 with boto3 is not installed)');

// The AWS CLIs on this machine: the one on PATH and Debian's (/usr/bin/aws), each once.
const clis = [
  ...new Set(
    [spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim(), '/usr/bin/aws']
      .filter((p) => p && existsSync(p))
      .map((p) => realpathSync(p)),
  ),
]
  .map((path) => ({ path, version: spawnSync(path, ['--version'], { encoding: 'utf8' }) }))
  .map(({ path, version }) => ({
    path,
    version: `${version.stdout}${version.stderr}`.trim().split(' ')[0] ?? '',
  }));
for (const major of ['aws-cli/1', 'aws-cli/2']) {
  if (!clis.some((c) => c.version.startsWith(major))) {
    console.error(
      `SKIPPED: the AWS CLI ${major.slice(-1)} producer test (${major.slice(-1) === '2' ? "Debian's awscli" : 'awscli from pip'} is not installed)`,
    );
  }
}

const BOTO3_PRODUCER = `
import base64, json, sys, boto3
events = json.loads(sys.stdin.read())
fh = boto3.client("firehose")
import os
name = os.environ["FIRELAKE_STREAM"]
desc = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
out = fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": e.encode()} for e in events])
names = fh.list_delivery_streams()["DeliveryStreamNames"]
kinesis_sourced = fh.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"]
try:
    fh.delete_delivery_stream(DeliveryStreamName=name)
    unsupported = "accepted"
except fh.exceptions.InvalidArgumentException as e:
    unsupported = str(e)
print(json.dumps({"status": desc["DeliveryStreamStatus"], "dest": desc["Destinations"][0]["ExtendedS3DestinationDescription"], "failed": out["FailedPutCount"], "ids": [r.get("RecordId") for r in out["RequestResponses"]], "names": names, "kinesis_sourced": kinesis_sourced, "unsupported": unsupported}, default=str))
`;

/** The processors in the order the stream applies them: deaggregation, then the transform. */
const PROCESSORS = [
  { Type: 'RecordDeAggregation', Parameters: [{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }] },
  {
    Type: 'Lambda',
    Parameters: expect.arrayContaining([
      {
        ParameterName: 'LambdaArn',
        ParameterValue: expect.stringMatching(/^arn:aws:lambda:.*:function:firelake-transform$/),
      },
    ]),
  },
];

async function staged(): Promise<Set<string>> {
  const lake = new FolderStore(join(dataDir, 'lake'));
  return new Set((await readLines<{ event_uuid: string }>(lake, 'staging/')).map((l) => l.value.event_uuid));
}

describe('AWS clients other than the JS SDK against firelake serve', { timeout: 120_000 }, () => {
  const sentUuids: string[] = [];

  it.skipIf(!hasBoto3)(
    'takes records from boto3 configured only by the export lines, and describes the stream as Firehose does',
    () => {
      const events = validEvents(50, 31);
      sentUuids.push(...events.map((e) => e.uuid));
      const out = execFileSync('python3', ['-c', BOTO3_PRODUCER], {
        env: producerEnv(),
        input: JSON.stringify(events.map((e) => e.data.toString())),
        encoding: 'utf8',
      });
      const result = JSON.parse(out) as {
        status: string;
        dest: Record<string, unknown>;
        failed: number;
        ids: string[];
        names: string[];
        kinesis_sourced: string[];
        unsupported: string;
      };
      expect(result.failed).toBe(0);
      expect(result.ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
      expect(result.status).toBe('ACTIVE');
      expect(result.names).toEqual([serve.env.FIRELAKE_STREAM]);
      expect(result.kinesis_sourced).toEqual([]);
      expect(result.dest).toMatchObject({
        Prefix: expect.stringContaining('!{partitionKeyFromLambda:dataset}/'),
        ErrorOutputPrefix: expect.stringContaining('errors/!{firehose:error-output-type}'),
        BufferingHints: { SizeInMBs: 8, IntervalInSeconds: 5 },
        CompressionFormat: 'GZIP',
        ProcessingConfiguration: { Enabled: true, Processors: PROCESSORS },
        DynamicPartitioningConfiguration: { Enabled: true },
      });
      expect(result.unsupported).toMatch(/DeleteDeliveryStream is not supported by the local Firehose/);
    },
  );

  for (const cli of clis) {
    it(`takes a record from the AWS CLI (${cli.version}, ${cli.path}) and answers describe-delivery-stream`, () => {
      const env = producerEnv();
      const stream = serve.env.FIRELAKE_STREAM!;
      // AWS_ENDPOINT_URL_<SERVICE> is read from CLI 1.29 / 2.13 on (Debian 12 ships 2.9): older
      // ones need the endpoint as a flag, or they would go to AWS.
      const [major, minor] = cli.version.replace('aws-cli/', '').split('.').map(Number);
      const readsEndpointVariable = major === 1 ? minor! >= 29 : minor! >= 13;
      const endpoint = readsEndpointVariable ? [] : ['--endpoint-url', serve.env.AWS_ENDPOINT_URL_FIREHOSE!];
      const describe = JSON.parse(
        execFileSync(
          cli.path,
          ['firehose', 'describe-delivery-stream', '--delivery-stream-name', stream, ...endpoint],
          {
            env,
            encoding: 'utf8',
          },
        ),
      ) as {
        DeliveryStreamDescription: {
          DeliveryStreamStatus: string;
          DeliveryStreamARN: string;
          Destinations: { ExtendedS3DestinationDescription: { ProcessingConfiguration: unknown } }[];
        };
      };
      expect(describe.DeliveryStreamDescription.DeliveryStreamStatus).toBe('ACTIVE');
      expect(describe.DeliveryStreamDescription.DeliveryStreamARN).toMatch(/^arn:aws:firehose:us-east-1:/);
      expect(
        describe.DeliveryStreamDescription.Destinations[0]!.ExtendedS3DestinationDescription
          .ProcessingConfiguration,
      ).toMatchObject({ Enabled: true, Processors: PROCESSORS });
      const kinesisSourced = JSON.parse(
        execFileSync(
          cli.path,
          [
            'firehose',
            'list-delivery-streams',
            '--delivery-stream-type',
            'KinesisStreamAsSource',
            ...endpoint,
          ],
          { env, encoding: 'utf8' },
        ),
      ) as { DeliveryStreamNames: string[] };
      expect(kinesisSourced.DeliveryStreamNames).toEqual([]);
      const [event] = validEvents(1, cli.version.startsWith('aws-cli/2') ? 33 : 32);
      sentUuids.push(event!.uuid);
      // v1 takes a blob argument as text; v2 as base64 unless told otherwise.
      const binary = cli.version.startsWith('aws-cli/2') ? ['--cli-binary-format', 'raw-in-base64-out'] : [];
      const put = JSON.parse(
        execFileSync(
          cli.path,
          [
            'firehose',
            'put-record',
            '--delivery-stream-name',
            stream,
            '--record',
            JSON.stringify({ Data: event!.data.toString() }),
            ...binary,
            ...endpoint,
          ],
          { env, encoding: 'utf8' },
        ),
      ) as { RecordId: string };
      expect(put.RecordId).toMatch(/^\d+$/);
    });
  }

  it('stages every record those clients sent once serve is stopped', async () => {
    serve.markStop();
    serve.child.kill('SIGTERM');
    expect((await serve.exited).code, serve.stderr()).toBe(0);
    const lake = await staged();
    expect(sentUuids.filter((u) => !lake.has(u))).toEqual([]);
  });
});
