import { destination as pinoDestination, pino, symbols, type Logger as PinoLogger } from 'pino';

/** The part of pino's destination (sonic-boom) that a muted stream replaces. */
interface Destination {
  write(data: string): boolean;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
  end(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

const noop = (): void => {};

/**
 * Make a destination write nothing from now on, and drop what it still holds. Every method a
 * logger, a child logger or pino's exit hook calls becomes a no-op (a flush calls back at once).
 *
 * Why: pino flushes its asynchronous destination synchronously when the process exits
 * (`flushSync` on 'exit'), and sonic-boom's flushSync retries a failed write every 100 ms for as
 * long as it fails. A write that can never succeed — EIO on the terminal of a closed window, or a
 * pipe whose reader is stuck (EAGAIN) — then keeps `process.exit()` from ever returning: the
 * process has closed its sockets and sleeps in Atomics.wait with no event loop, so SIGINT and
 * SIGTERM are never handled again and only `kill -9` ends it (issue 15). pino mutes the stream
 * itself for EPIPE only.
 */
function mute(stream: Destination): void {
  stream.write = () => true;
  stream.flush = (cb) => {
    if (cb !== undefined) process.nextTick(cb);
  };
  stream.flushSync = noop;
  stream.end = noop;
}

/**
 * JSON lines on stdout, written asynchronously. If stdout goes away (the reader of a pipe exits,
 * the terminal closes), logging stops and the server keeps serving: a log line never blocks SIP,
 * and never keeps the process from exiting (see `mute`). Worker threads make their own (fd 1 is
 * the process's). `fd`: another descriptor than stdout (tests).
 */
export function stdoutLogger(level: string, fd = 1): PinoLogger {
  const destination = pinoDestination({ dest: fd, sync: false }) as unknown as Destination;
  destination.on('error', () => {
    // EPIPE, EIO and friends: nothing more can be written; drop this and further lines (also
    // those of child loggers, which share the destination but not the level)
    log.level = 'silent';
    mute(destination);
  });
  const log = pino({ level }, destination as unknown as Parameters<typeof pino>[1]);
  return log;
}

/**
 * Write out what `log` still holds, within `boundMs`; then (written or not) its destination
 * drops everything, so that a following `process.exit()` cannot wait on it. For an exit that must
 * not wait on stdout (a forced stop).
 */
export function flushThenMute(log: PinoLogger, boundMs: number, done: () => void): void {
  const stream = (log as unknown as Record<symbol, unknown>)[symbols.streamSym] as Destination | undefined;
  let called = false;
  const finish = (): void => {
    if (called) return;
    called = true;
    clearTimeout(timer);
    if (stream !== undefined && typeof stream.flushSync === 'function') mute(stream);
    done();
  };
  const timer = setTimeout(finish, boundMs);
  try {
    log.flush(() => finish());
  } catch {
    finish();
  }
}
