// Bounded concurrency, with one failure rule for every pool of Firelake (the transform's
// DynamoDB reads, compaction's downloads, the SQL's mirror of an S3 day): the first failure
// stops new work, the calls in flight are waited for, then the first error is thrown. Waiting
// matters: a caller that cleans up after the error (removes a work folder, ends an invocation)
// must not have a call still writing behind it.

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; the results in the items' order.
 * On a failure no item is started any more, and once every call in flight has settled the
 * first error is thrown.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
