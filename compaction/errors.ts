import { FirelakeError } from '../lake/errors.js';

// Errors of a compaction run. Each names what went wrong and what to do; `cause` keeps the
// engine's or the store's own error.

export class CompactionError extends FirelakeError {
  static override readonly code: string = 'COMPACTION_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CompactionError';
  }
}

/** No staging objects for the day: nothing to compact (wrong date, or Firehose wrote nothing). */
export class MissingDayError extends CompactionError {
  static override readonly code: string = 'DAY_NOT_STAGED';
  constructor(
    readonly day: string,
    readonly prefix: string,
    location: string,
  ) {
    super(`no staging objects for ${day} under ${location.replace(/\/?$/, '/')}${prefix}`);
    this.name = 'MissingDayError';
  }
}

/** A staging object could not be downloaded or read (not gzip, malformed JSON, bad types). */
export class UnreadableObjectError extends CompactionError {
  static override readonly code: string = 'STAGING_OBJECT_UNREADABLE';
  constructor(
    readonly key: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`staging object ${key} is unreadable: ${reason}; nothing was published`, options);
    this.name = 'UnreadableObjectError';
  }
}

/** Another run published the day first; this run removed its own files. */
export class ConcurrentRunError extends CompactionError {
  static override readonly code: string = 'COMPACTION_CONFLICT';
  constructor(
    readonly day: string,
    readonly runId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `another compaction of ${day} published first; run ${runId} removed its files and published nothing`,
      options,
    );
    this.name = 'ConcurrentRunError';
  }
}

/**
 * Staging objects the published manifest consumed are gone (a lifecycle rule expired them, or
 * someone deleted them): recompacting would silently lose their rows.
 */
export class StagingShrunkError extends CompactionError {
  static override readonly code: string = 'STAGING_SHRUNK';
  constructor(
    readonly day: string,
    readonly missing: string[],
  ) {
    super(
      `${missing.length} staging object(s) of ${day} that the published day was built from are gone ` +
        `(first: ${missing[0]}); recompacting would drop their rows. Restore them, or pass --force ` +
        'to publish what staging holds now',
    );
    this.name = 'StagingShrunkError';
  }
}

/** The previous manifest is not a Firelake manifest (or of an unknown format version). */
export class InvalidManifestError extends CompactionError {
  static override readonly code: string = 'MANIFEST_INVALID';
  constructor(
    readonly key: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`manifest ${key} is not valid: ${reason}`, options);
    this.name = 'InvalidManifestError';
  }
}
