// The transform's CPU cost per record with DynamoDB answered instantly by an in-process stub, as
// a ratio to the floor of base64 -> JSON.parse -> JSON.stringify -> base64 on the same records in
// the same process. Run by bench/transform.bench.ts twice: bundled and flagged as the Lambda runs
// it, and from source under tsx; prints one JSON line for it to read.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BatchGetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import type { DynamoSender } from '../transform/dynamo.js';
import { createTransform } from '../transform/transform.js';
import { benchBatches, benchConfig, lastArrival } from './transform-records.js';

export interface CpuResult {
  records: number;
  /** Per measured round, in run order. */
  ratios: number[];
  /** The median round. */
  floorUs: number;
  handlerUs: number;
  ratio: number;
}

const CPU_RECORDS = 20_000;
// A warm Lambda handles thousands of batches: measure after the JIT has settled on both paths
// (the per-round ratios kept falling through the first rounds), with the same warm-up for both.
const WARMUP_ROUNDS = 3;
// Rounds vary with GC timing and the shared machine's load: the median of nine.
const CPU_ROUNDS = 9;

/**
 * A stub, not DynamoDB: answers in-process at once (every conditional write accepted, every read
 * finds nothing), so what is measured is the transform's own CPU, SDK command building included.
 */
const instantStub: DynamoSender = {
  send: (async (command: unknown) => {
    if (command instanceof PutItemCommand) return {};
    if (command instanceof BatchGetItemCommand) return { Responses: {}, UnprocessedKeys: {} };
    throw new Error('stub: unexpected command');
  }) as DynamoSender['send'],
};

/** The floor: base64 -> JSON.parse -> JSON.stringify -> base64, for every record of a batch. */
function floor(b: FirehoseTransformationEvent): string[] {
  const out = new Array<string>(b.records.length);
  for (let i = 0; i < b.records.length; i++) {
    const value = JSON.parse(Buffer.from(b.records[i]!.data, 'base64').toString('utf8'));
    out[i] = Buffer.from(JSON.stringify(value)).toString('base64');
  }
  return out;
}

/** A full collection, without starting node with --expose-gc. */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const cpuNow = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

// The floor's input is valid JSON only: records that are not UTF-8 JSON would throw in it.
const utf8 = new TextDecoder('utf-8', { fatal: true });
const cpuBatches = benchBatches(CPU_RECORDS, 2).map((b) => ({
  ...b,
  records: b.records.filter((r) => {
    try {
      JSON.parse(utf8.decode(Buffer.from(r.data, 'base64')));
      return true;
    } catch {
      return false;
    }
  }),
}));
const records = cpuBatches.reduce((n, b) => n + b.records.length, 0);
// Floor and handler alternate batch by batch, so that the load of a shared machine weighs on
// both alike; the ratio is taken per round and the median round reported, after WARMUP_ROUNDS.
const rounds: { floorUs: number; handlerUs: number; ratio: number }[] = [];
for (let round = 0; round < WARMUP_ROUNDS + CPU_ROUNDS; round++) {
  // Each round starts from a collected heap, so that no round pays for the garbage of the last.
  collectGarbage();
  const stubbed = createTransform({
    dynamodb: instantStub,
    config: benchConfig,
    now: () => lastArrival(cpuBatches[0]!),
  });
  let floorCpu = 0;
  let handlerCpu = 0;
  for (const b of cpuBatches) {
    let t0 = cpuNow();
    floor(b);
    floorCpu += cpuNow() - t0;
    t0 = cpuNow();
    await stubbed(b);
    handlerCpu += cpuNow() - t0;
  }
  if (round >= WARMUP_ROUNDS) {
    rounds.push({
      floorUs: floorCpu / records,
      handlerUs: handlerCpu / records,
      ratio: handlerCpu / floorCpu,
    });
  }
}
const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
const result: CpuResult = { records, ratios: rounds.map((r) => r.ratio), ...median };
console.log(JSON.stringify(result));
