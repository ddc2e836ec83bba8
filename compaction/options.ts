import type { CuratedTable } from '../iceberg/table.js';
import type { Day } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';

// What one compaction run of a day takes (compactDay; the fan-out's units and commit take a part).

export interface CompactDayOptions {
  store: ObjectStore;
  day: Day;
  /** Recompact even when staging is unchanged since the published run; publish even if staging shrank. */
  force?: boolean;
  /** Folder for downloads, DuckDB's database and spill files (default: the OS temp folder). */
  workDir?: string;
  /** DuckDB memory_limit in MiB (default: 60% of this machine's memory). */
  memoryLimitMiB?: number;
  /** DuckDB threads (default: the cores available). */
  threads?: number;
  fileSizeBytes?: number;
  rowGroupSize?: number;
  zstdLevel?: number;
  /** Progress lines (objects, rows, bytes); the CLI sends them to stderr. */
  log?: (line: string) => void;
  /** The curated table and its catalog (default: the lake's file-system catalog). */
  table?: CuratedTable;
  /** Expire snapshots older than this at the commit, instead of the table's retention. */
  retentionMs?: number;
  /** Test seam: runs after the files are uploaded, right before the commit. */
  beforePublish?: (runId: string) => Promise<void>;
  /** Run id (default: UTC time + random); must be unique per run. */
  runId?: string;
}
