import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mapLimit } from '../lake/concurrency.js';
import { FirelakeError } from '../lake/errors.js';

// The DynamoDB calls of the transform, counted (the metrics report requests per event) and
// wrapped: a failure that the SDK's own retries could not fix becomes a DynamoUnavailableError,
// which the handler lets through so Firehose retries the whole batch.

export type Item = Record<string, AttributeValue>;

/** The one method of DynamoDBClient the transform uses (an in-process stub can stand in). */
export type DynamoSender = Pick<DynamoDBClient, 'send'>;

export class DynamoUnavailableError extends FirelakeError {
  static override readonly code: string = 'DYNAMO_UNAVAILABLE';
  override name = 'DynamoUnavailableError';
}

export interface CallCounts {
  reads: number;
  writes: number;
}

/** BatchGetItem takes at most 100 keys a call. */
export const BATCH_GET_MAX_KEYS = 100;
const UNPROCESSED_ATTEMPTS = 8;

export class Dynamo {
  readonly calls: CallCounts = { reads: 0, writes: 0 };

  constructor(
    private readonly client: DynamoSender,
    readonly concurrency: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Conditional PutItems of inputAt(0..count-1), at most `concurrency` in flight: for each, true
   * when written, false when the condition failed. As mapLimit over single puts would, but with no
   * async function, closure nor extra promise per item (this runs once per event of a batch).
   */
  putEachIfCondition(count: number, inputAt: (n: number) => PutItemCommandInput): Promise<boolean[]> {
    return new PutPool(this.client, this.calls, this.concurrency, count, inputAt).run();
  }

  /**
   * Reads many keys of one or more tables: 100 keys a BatchGetItem, calls in parallel (bounded),
   * UnprocessedKeys retried with exponential backoff and jitter. Returns the items found, by
   * table; keys must be distinct (the caller deduplicates across the batch).
   */
  async batchGet(
    requests: { table: string; keys: Item[] }[],
    consistent: boolean,
  ): Promise<Map<string, Item[]>> {
    const found = new Map<string, Item[]>();
    const chunks: { table: string; key: Item }[][] = [];
    let chunk: { table: string; key: Item }[] = [];
    for (const { table, keys } of requests) {
      found.set(table, []);
      for (const key of keys) {
        chunk.push({ table, key });
        if (chunk.length === BATCH_GET_MAX_KEYS) {
          chunks.push(chunk);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) chunks.push(chunk);
    await mapLimit(chunks, this.concurrency, async (part) => {
      let pending: Record<string, { Keys: Item[]; ConsistentRead: boolean }> = {};
      for (const { table, key } of part) {
        const entry = pending[table] ?? { Keys: [], ConsistentRead: consistent };
        entry.Keys.push(key);
        pending[table] = entry;
      }
      for (let attempt = 0; ; attempt++) {
        this.calls.reads++;
        let answer: Awaited<ReturnType<typeof this.sendBatchGet>>;
        try {
          answer = await this.sendBatchGet(pending);
        } catch (error) {
          throw unavailable('BatchGetItem', error);
        }
        for (const [table, items] of Object.entries(answer.Responses ?? {})) found.get(table)?.push(...items);
        const rest = answer.UnprocessedKeys ?? {};
        if (Object.keys(rest).length === 0) return;
        if (attempt + 1 >= UNPROCESSED_ATTEMPTS) {
          throw new DynamoUnavailableError(
            `BatchGetItem left keys unprocessed after ${UNPROCESSED_ATTEMPTS} attempts (throttled)`,
          );
        }
        pending = rest as typeof pending;
        // Full jitter, 50 ms doubling, capped at 2 s.
        await this.sleep(Math.random() * Math.min(2_000, 50 * 2 ** attempt));
      }
    });
    return found;
  }

  private sendBatchGet(requestItems: Record<string, { Keys: Item[]; ConsistentRead: boolean }>) {
    return this.client.send(new BatchGetItemCommand({ RequestItems: requestItems }));
  }
}

/** One slot of a PutPool: the item it waits on, and its two callbacks made once. */
interface PutSlot {
  n: number;
  input: PutItemCommandInput | undefined;
  ok: () => void;
  fail: (error: unknown) => void;
}

/** The put pool of Dynamo#putEachIfCondition: slots pull the next index when their put settles. */
class PutPool {
  private readonly results: boolean[];
  private next = 0;
  private inFlight = 0;
  private failure: { error: unknown } | undefined;
  private resolve!: (results: boolean[]) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly client: DynamoSender,
    private readonly calls: CallCounts,
    private readonly limit: number,
    private readonly count: number,
    private readonly inputAt: (n: number) => PutItemCommandInput,
  ) {
    this.results = new Array<boolean>(count);
  }

  run(): Promise<boolean[]> {
    const done = new Promise<boolean[]>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const slots = Math.min(this.limit, this.count);
    if (slots <= 0) {
      this.resolve(this.results);
      return done;
    }
    for (let k = 0; k < slots; k++) {
      const slot: PutSlot = {
        n: 0,
        input: undefined,
        ok: () => {
          this.results[slot.n] = true;
          this.settled(slot);
        },
        fail: (error: unknown) => {
          if (
            error instanceof ConditionalCheckFailedException ||
            (error as Error).name === 'ConditionalCheckFailedException'
          ) {
            this.results[slot.n] = false;
          } else {
            this.failure ??= { error: unavailable(`PutItem on ${slot.input?.TableName}`, error) };
          }
          this.settled(slot);
        },
      };
      this.start(slot);
    }
    return done;
  }

  /** Sends the next put on this slot, or finishes when nothing is left in flight. */
  private start(slot: PutSlot): void {
    if (this.failure || this.next >= this.count) {
      if (this.inFlight === 0) {
        if (this.failure) this.reject(this.failure.error);
        else this.resolve(this.results);
      }
      return;
    }
    const n = this.next++;
    this.inFlight++;
    slot.n = n;
    let input: PutItemCommandInput;
    try {
      input = this.inputAt(n);
    } catch (error) {
      // The caller's own error, not DynamoDB's: passed on as it is.
      this.failure ??= { error };
      this.settled(slot);
      return;
    }
    this.calls.writes++;
    slot.input = input;
    try {
      this.client.send(new PutItemCommand(input)).then(slot.ok, slot.fail);
    } catch (error) {
      slot.fail(error);
    }
  }

  private settled(slot: PutSlot): void {
    this.inFlight--;
    slot.input = undefined;
    this.start(slot);
  }
}

function unavailable(what: string, error: unknown): DynamoUnavailableError {
  return new DynamoUnavailableError(`${what} failed after the SDK's retries: ${(error as Error).message}`, {
    cause: error,
  });
}
