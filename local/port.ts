// Apart from local/runtime.ts (dynalite, the AWS SDK, the transform) so that `firelake serve`
// shows it in its help without loading the runtime.

/** The default port of `firelake serve`'s Firehose endpoint (any free port with --port 0). */
export const DEFAULT_FIREHOSE_PORT = 4573;
