import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../lake/concurrency.js';

// The one failure rule of every bounded pool (lake/concurrency.ts): stop taking work, wait for
// what is in flight, report the first error.

/** A call that settles when the test says so. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { done, open, fail };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await null;
};

describe('mapLimit', () => {
  it('gives the results in the order of the items, with at most `limit` calls at once', async () => {
    let running = 0;
    let most = 0;
    const results = await mapLimit([5, 1, 4, 2, 3], 2, async (n, i) => {
      most = Math.max(most, ++running);
      await turns(n);
      running--;
      return `${i}:${n}`;
    });
    expect(results).toEqual(['0:5', '1:1', '2:4', '3:2', '4:3']);
    expect(most).toBe(2);
  });

  it('starts no item after a failure', async () => {
    const started: number[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const run = mapLimit([0, 1, 2, 3], 2, (i) => {
      started.push(i);
      return gates[i]!.done;
    });
    gates[0]!.fail(new Error('item 0'));
    await turns();
    gates[1]!.open();
    await expect(run).rejects.toThrow('item 0');
    expect(started).toEqual([0, 1]);
  });

  it('throws only once every call in flight has settled', async () => {
    const slow = gate();
    let slowSettled = false;
    const run = mapLimit([0, 1], 2, async (i) => {
      if (i === 0) throw new Error('fast failure');
      await slow.done;
      slowSettled = true;
    });
    let rejected = false;
    run.catch(() => {
      rejected = true;
    });
    await turns(20);
    // The failure is known, but a call is still running: the caller must not clean up yet.
    expect(rejected).toBe(false);
    slow.open();
    await expect(run).rejects.toThrow('fast failure');
    expect(slowSettled).toBe(true);
  });

  it('reports the first error when several calls fail', async () => {
    const gates = [gate(), gate(), gate()];
    const run = mapLimit([0, 1, 2], 3, (i) => gates[i]!.done);
    gates[2]!.fail(new Error('first'));
    await turns();
    gates[0]!.fail(new Error('second'));
    gates[1]!.fail(new Error('third'));
    await expect(run).rejects.toThrow('first');
  });

  it('resolves with no items and never calls fn', async () => {
    expect(await mapLimit([], 4, async () => expect.unreachable())).toEqual([]);
  });
});
