// The base of every error Firelake throws on purpose. No imports: every Lambda bundle, the local
// runtime and the CLI load it.

/**
 * An error with a stable `code` (docs/errors.md), one per class, never reused nor renamed: what a
 * script, an alarm or the CLI's handler matches on, while the message stays free to say more. Each class declares
 * `static override readonly code`; instances carry it as an own property, as Node's errors do.
 */
export abstract class FirelakeError extends Error {
  /** Declared by each subclass (abstract: never thrown as it is, so never without a code). */
  static readonly code: string;
  readonly code: string;

  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
    // new.target is the class actually constructed, so a subclass gets its own code.
    this.code = (new.target as typeof FirelakeError).code;
  }
}
