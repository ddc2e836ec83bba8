// How a long-running local process learns that it must stop: SIGINT (Ctrl-C), SIGTERM
// (`kill`, `systemctl stop`, `docker stop`, `kill -- -PGID`), SIGHUP (a closed terminal), or its
// parent going away without a signal reaching it (npx forwards SIGTERM to its shell, not to this
// process; a supervisor killed with -9). Every one of them means "flush and exit 0"; a second
// signal while flushing exits at once (the write-ahead log keeps what was acknowledged).

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const RELAY_WINDOW_MS = 500;
let outputErrorsIgnored = false;

export interface StopWatch {
  /** Resolves with what asked for the stop: a signal name or `parent exited`. */
  readonly requested: Promise<string>;
  /** True once a stop was asked for. */
  readonly stopping: boolean;
  /** Removes the handlers (the process is done stopping). */
  dispose(): void;
}

export interface StopWatchOptions {
  log: (line: string) => void;
  /** What the first stop does, for the log line. */
  action?: string;
  /** How often the parent is checked; reparenting has no event. */
  parentPollMs?: number;
  /** Exit code of a second signal (default 130, as a shell reports an interrupted command). */
  abortExitCode?: number;
}

export function watchForStop(options: StopWatchOptions): StopWatch {
  const { log } = options;
  // A closed terminal turns writes to stderr/stdout into EIO/EPIPE errors: logging must not
  // crash the flush that the hang-up started.
  if (!outputErrorsIgnored) {
    outputErrorsIgnored = true;
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  }

  let stopping = false;
  let resolve!: (reason: string) => void;
  const requested = new Promise<string>((r) => {
    resolve = r;
  });
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // One stop can arrive more than once: a signal to the whole group reaches this process
    // directly and again through a wrapper that relays it (npm, tsx). A person's second Ctrl-C
    // comes later than that.
    if (stopping && Date.now() - firstAt < RELAY_WINDOW_MS) return;
    if (stopping) {
      log(`${signal} again: exiting at once without flushing`);
      process.exit(options.abortExitCode ?? 130);
    }
    stop(signal);
  };
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    firstAt = Date.now();
    log(
      `${reason}: ${options.action ?? 'flushing every buffer into the lake'} (a second signal exits at once)`,
    );
    resolve(reason);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  // When the parent dies, Linux reparents this process (to init or a subreaper): ppid changes.
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid !== parent) stop(`parent process ${parent} exited`);
  }, options.parentPollMs ?? 250);
  poll.unref();

  return {
    requested,
    get stopping() {
      return stopping;
    },
    dispose() {
      clearInterval(poll);
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}
