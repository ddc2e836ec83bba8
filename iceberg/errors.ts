import { FirelakeError } from '../lake/errors.js';

/** The curated table's Iceberg metadata is unreadable, or a change to it cannot be made. */
export class IcebergError extends FirelakeError {
  static override readonly code: string = 'ICEBERG_TABLE_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IcebergError';
  }
}

/**
 * Another writer committed a change to the same day since this one read the table: nothing of
 * this commit was published.
 */
export class CommitConflictError extends FirelakeError {
  static override readonly code: string = 'ICEBERG_COMMIT_CONFLICT';
  constructor(
    readonly days: string[],
    options?: { cause?: unknown },
  ) {
    super(`another commit changed ${days.join(', ')} first; nothing of this commit was published`, options);
    this.name = 'CommitConflictError';
  }
}

/** The commit's outcome cannot be known (the catalog's answer was lost and cannot be read back). */
export class CommitUnknownError extends FirelakeError {
  static override readonly code: string = 'ICEBERG_COMMIT_UNKNOWN';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommitUnknownError';
  }
}
