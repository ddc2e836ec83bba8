import { listValue, type structValue } from '@duckdb/node-api';
import { mapLimit } from '../lake/concurrency.js';
import type { ObjectInfo, ObjectStore } from '../lake/store.js';
import type { Engine } from './engine.js';
import { CompactionError, UnreadableObjectError } from './errors.js';

// Staging objects into the work folder, and naming the one the engine could not read.

const DOWNLOAD_CONCURRENCY = 8;

/** Downloads objects to local paths, a few at a time; the failure rule of lake/concurrency.ts. */
export async function download(
  store: ObjectStore,
  objects: readonly ObjectInfo[],
  paths: string[],
): Promise<void> {
  await mapLimit(objects, DOWNLOAD_CONCURRENCY, async ({ key }, i) => {
    try {
      await store.getToFile(key, paths[i]!);
    } catch (error) {
      throw new UnreadableObjectError(key, `download failed: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** Turns an engine error while loading an hour into one that names the staging object. */
export async function unreadable(
  engine: Engine,
  error: unknown,
  objects: readonly ObjectInfo[],
  paths: readonly string[],
  columns: ReturnType<typeof structValue>,
): Promise<unknown> {
  if (error instanceof UnreadableObjectError) return error;
  const message = (error as Error).message ?? String(error);
  const reason = message.split('\n')[0]!;
  let index = paths.findIndex((p) => message.includes(p));
  if (index < 0) {
    // The message names no file: read each object alone to find the one that fails.
    for (const [i, path] of paths.entries()) {
      const fails = await engine.run('probe-object', { files: listValue([path]), columns }).then(
        () => false,
        () => true,
      );
      if (fails) {
        index = i;
        break;
      }
    }
  }
  if (index < 0) return new CompactionError(`loading staging failed: ${reason}`, { cause: error });
  return new UnreadableObjectError(
    objects[index]!.key,
    reason.replaceAll(paths[index]!, objects[index]!.key),
    {
      cause: error,
    },
  );
}
