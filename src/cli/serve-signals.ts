// What `parley serve` does on SIGINT, SIGTERM and SIGHUP (docs/configuration.md, "Signals").
//
//   SIGINT, SIGTERM   stop: listeners closed, workers stopped, the store closed; exit 0. A stop
//                     that has not finished after STOP_BOUND_MS exits with status 1; so does a
//                     second SIGINT/SIGTERM during the stop, at once.
//   SIGHUP            reload the configuration file and the routing script, unless Parley is a
//                     foreground server whose terminal has closed: then it is a stop as above.
//
// A foreground server is one started in a terminal: it had a controlling terminal (/dev/tty
// opened) and a terminal on stdin, stdout or stderr. A closed terminal window, a dropped ssh
// session, `tmux kill-session` hang the terminal up: the kernel takes it away from every process
// of its session (/dev/tty no longer opens) and the shell passes SIGHUP on to its jobs. A daemon —
// under systemd, `setsid`, `nohup` (which moves stdio off the terminal) or a container without a
// TTY — has no terminal to lose, so SIGHUP always reloads it; so does `kill -HUP` sent to a
// foreground server whose terminal is still open.
import { closeSync, constants, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { RunningServer } from '../app/run-server.js';
import { flushThenMute } from '../app/logger.js';

/** How long a stop may take before the process exits anyway (the SIP workers get 3 s, the binding writer 5 s). */
export const STOP_BOUND_MS = 10_000;
/** How long a forced exit waits for the log lines still buffered. */
const FLUSH_BOUND_MS = 500;
/** How long a clean stop waits for them (a slow reader of stdout). */
const FINAL_FLUSH_BOUND_MS = 2000;

export type ServeSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** Does this process have a controlling terminal? (/dev/tty opens only then.) */
export function hasControllingTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}

/** Started in a terminal: a controlling terminal, and a terminal on stdin, stdout or stderr. */
export function startedInTerminal(): boolean {
  return (isatty(0) || isatty(1) || isatty(2)) && hasControllingTerminal();
}

export interface ServeSignalsOptions {
  /** Started in a terminal (startedInTerminal()), decided once at start. */
  readonly foreground: boolean;
  /** Is the terminal still there? (default: hasControllingTerminal) */
  readonly terminalPresent?: () => boolean;
  readonly stopBoundMs?: number;
  /** Ends the process (default process.exit). */
  readonly exit?: (code: number) => void;
  /** Where a signal before the server is up is reported (default stderr). */
  readonly report?: (line: string) => void;
}

/**
 * The signal handling of `parley serve`. Installed before the server starts, so that a signal
 * during the start is not lost (it stops the server as soon as it is up); `started` hands over the
 * running server.
 */
export class ServeSignals {
  private server: RunningServer | undefined;
  /** The signal that started the stop, once one did. */
  private stopping: ServeSignal | undefined;
  private readonly terminalPresent: () => boolean;
  private readonly stopBoundMs: number;
  private readonly exit: (code: number) => void;
  private readonly report: (line: string) => void;

  constructor(private readonly options: ServeSignalsOptions) {
    this.terminalPresent = options.terminalPresent ?? hasControllingTerminal;
    this.stopBoundMs = options.stopBoundMs ?? STOP_BOUND_MS;
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.report = options.report ?? ((line) => process.stderr.write(line + '\n'));
  }

  /** Handle the three signals in this process. */
  install(): void {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => this.handle(signal));
  }

  /** The server is up: a stop asked for during the start happens now. */
  started(server: RunningServer): void {
    this.server = server;
    if (this.stopping !== undefined) this.stop(server, this.stopping, this.stopping === 'SIGHUP' ? 'the terminal closed' : undefined);
  }

  /** A stop asked for during the start (the caller skips its welcome lines). */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  handle(signal: ServeSignal): void {
    const server = this.server;
    if (signal === 'SIGHUP') {
      const terminalClosed = this.options.foreground && !this.terminalPresent();
      if (this.stopping !== undefined) {
        // a hang-up often comes twice (the kernel, then the shell): never a reason to force the exit
        server?.log.info({ signal, action: 'none' }, 'SIGHUP during the stop: ignored');
        return;
      }
      if (!terminalClosed) {
        if (server === undefined) {
          this.report('parley: SIGHUP while starting: nothing to reload yet (ignored)');
          return;
        }
        server.log.info({ signal, action: 'reload', foreground: this.options.foreground }, 'SIGHUP: reloading the configuration and the routing script');
        // the configuration first: a changed routing.script is the file the script reload compiles
        void server.reloadConfig('signal').then(() => server.reload('signal'));
        return;
      }
      this.stopping = signal;
      if (server !== undefined) this.stop(server, signal, 'the terminal closed');
      return;
    }
    if (this.stopping !== undefined) {
      // a second SIGINT/SIGTERM (Ctrl-C again, a supervisor that insists): exit now
      if (server === undefined) {
        this.report(`parley: ${signal} again while starting: exiting`);
        this.exit(1);
        return;
      }
      server.log.warn({ signal, action: 'exit', stopStartedBy: this.stopping }, `${signal} during the stop: exiting now`);
      flushThenMute(server.log, FLUSH_BOUND_MS, () => this.exit(1));
      return;
    }
    this.stopping = signal;
    if (server !== undefined) this.stop(server, signal, undefined);
  }

  private stop(server: RunningServer, signal: ServeSignal, reason: string | undefined): void {
    server.log.info({ signal, action: 'stop', ...(reason === undefined ? {} : { reason }), boundMs: this.stopBoundMs }, 'shutting down');
    const bound = setTimeout(() => {
      server.log.error({ signal, action: 'exit', boundMs: this.stopBoundMs }, `the stop did not finish within ${this.stopBoundMs / 1000} s: exiting`);
      flushThenMute(server.log, FLUSH_BOUND_MS, () => this.exit(1));
    }, this.stopBoundMs);
    bound.unref();
    server.stop().then(
      () => flushThenMute(server.log, FINAL_FLUSH_BOUND_MS, () => this.exit(0)),
      (e: unknown) => {
        server.log.error({ err: e }, 'the stop failed: exiting');
        flushThenMute(server.log, FLUSH_BOUND_MS, () => this.exit(1));
      },
    );
  }
}
