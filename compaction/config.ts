import { tmpdir } from 'node:os';
import { glueClient } from '../aws/glue.js';
import { s3Client } from '../aws/s3.js';
import { GlueCatalog, type GlueTableRef } from '../iceberg/glue-catalog.js';
import { CURATED_GLUE_ENV } from '../iceberg/glue-schema.js';
import { CuratedTable } from '../iceberg/table.js';
import { S3Store } from '../lake/s3-store.js';
import { DEFAULT_COMPACTION_LATE_WINDOW_DAYS, settingsFromEnv, settingsProblems } from '../lake/settings.js';
import type { ObjectStore } from '../lake/store.js';
import { CompactionError } from './errors.js';

// The compaction Lambda's configuration, read once at cold start from its environment.

export interface CompactionConfig {
  bucket: string;
  prefix: string;
  lateWindowDays: number;
  memoryLimitMiB: number;
  workDir: string;
  /** The Glue table the curated table is committed through; undefined: the file-system catalog. */
  curatedGlue: GlueTableRef | undefined;
}

export class ConfigError extends CompactionError {
  static override readonly code: string = 'COMPACTION_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * LAKE_BUCKET (required), LAKE_PREFIX, COMPACTION_LATE_WINDOW_DAYS (default in lake/settings.ts),
 * COMPACTION_MEMORY_LIMIT_MIB (default 70% of the function's memory: Node, the SDK's buffers and
 * DuckDB's allocations outside its buffer pool need the rest), COMPACTION_WORK_DIR (default /tmp),
 * CURATED_GLUE_DATABASE and CURATED_GLUE_TABLE (both or neither: the Glue table commits go
 * through, infra/glue-catalog.ts bindCuratedTable).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): CompactionConfig {
  const bucket = env.LAKE_BUCKET;
  if (!bucket) throw new ConfigError('LAKE_BUCKET is not set: the compaction Lambda needs the lake bucket');
  const lambdaMiB = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 3008);
  const problems: string[] = [];
  const shared = settingsFromEnv(env, 'lambda', ['compactionLateWindowDays'], problems);
  problems.push(...settingsProblems(shared, 'lambda'));
  const database = env[CURATED_GLUE_ENV.database] || undefined;
  const table = env[CURATED_GLUE_ENV.table] || undefined;
  if ((database === undefined) !== (table === undefined))
    problems.push(
      `${CURATED_GLUE_ENV.database} and ${CURATED_GLUE_ENV.table} go together: set both (the curated table in Glue) or neither (the lake's file-system catalog)`,
    );
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return {
    bucket,
    prefix: env.LAKE_PREFIX ?? '',
    lateWindowDays: shared.compactionLateWindowDays ?? DEFAULT_COMPACTION_LATE_WINDOW_DAYS,
    memoryLimitMiB: positiveInt(env, 'COMPACTION_MEMORY_LIMIT_MIB', Math.floor(lambdaMiB * 0.7)),
    workDir: env.COMPACTION_WORK_DIR ?? tmpdir(),
    curatedGlue: database && table ? { database, table } : undefined,
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${name}="${text}" is not a positive whole number`);
  return n;
}

export function storeFromConfig(config: CompactionConfig): ObjectStore {
  return new S3Store(s3Client({ requestTimeoutMs: 120_000 }), config.bucket, config.prefix);
}

/**
 * The curated table the functions commit, one per invocation (its caches of decoded manifests do
 * not outlive it): through Glue when configured, with one Glue client for the sandbox's life.
 */
export function curatedTables(config: CompactionConfig, store: ObjectStore): () => CuratedTable {
  const ref = config.curatedGlue;
  if (!ref) return () => new CuratedTable(store);
  const glue = glueClient();
  return () => new CuratedTable(store, new GlueCatalog(store, glue, ref));
}
