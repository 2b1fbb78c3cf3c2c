import { isatty } from 'node:tty';
import { destination as pinoDestination, pino, symbols, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';

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

/** `log.format`: JSON lines, readable lines, or readable when the output is a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** The format `auto` means for descriptor `fd`: pretty on a terminal (every thread decides alike: fd 1 is the process's). */
export function resolveLogFormat(format: LogFormat, fd = 1): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return isatty(fd) ? 'pretty' : 'json';
}

/** Where a pretty logger keeps the destination it writes through (flushThenMute mutes that one). */
const inner = Symbol('parley.destination');

/**
 * A destination that turns each JSON line into one readable line (pino-pretty's formatter, run
 * here synchronously: no transport thread) and writes it to `dest`: time, level, `module: message`,
 * then the other fields as JSON on the same line. Colours only on a terminal.
 */
function prettyDestination(dest: Destination, colorize: boolean): Destination {
  const format = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,module',
    messageFormat: '{if module}{module}: {end}{msg}',
  });
  const pretty: Destination & { [inner]: Destination } = {
    [inner]: dest,
    write: (line) => dest.write(format(line)),
    flush: (cb) => dest.flush(cb),
    flushSync: () => dest.flushSync(),
    end: () => dest.end(),
    on: (event, listener) => dest.on(event, listener),
  };
  return pretty;
}

/**
 * Lines on stdout, written asynchronously: JSON lines, or with `format` pretty (or auto on a
 * terminal) one readable line each. If stdout goes away (the reader of a pipe exits,
 * the terminal closes), logging stops and the server keeps serving: a log line never blocks SIP,
 * and never keeps the process from exiting (see `mute`). Worker threads make their own (fd 1 is
 * the process's). `fd`: another descriptor than stdout (tests).
 */
export function stdoutLogger(level: string, fd = 1, format: LogFormat = 'json'): PinoLogger {
  const destination = pinoDestination({ dest: fd, sync: false }) as unknown as Destination;
  const family: LoggerFamily = { members: new Set(), muted: false };
  const pretty = resolveLogFormat(format, fd) === 'pretty';
  destination.on('error', () => {
    // EPIPE, EIO and friends: nothing more can be written; drop this and further lines (also
    // those of child loggers, which share the destination but not the level)
    family.muted = true;
    log.level = 'silent';
    mute(destination);
  });
  const out = pretty ? prettyDestination(destination, isatty(fd)) : destination;
  // every child (and its children) is remembered, so that setLogLevel reaches them all: a pino
  // child copies its parent's level when it is made and does not follow it afterwards
  const log = pino({ level, onChild: (child) => join(family, child) }, out as unknown as Parameters<typeof pino>[1]);
  join(family, log);
  return log;
}

/** A logger of stdoutLogger and every logger made from it. */
interface LoggerFamily {
  readonly members: Set<WeakRef<PinoLogger>>;
  muted: boolean;
}

const families = new WeakMap<PinoLogger, LoggerFamily>();

function join(family: LoggerFamily, member: PinoLogger): void {
  family.members.add(new WeakRef(member));
  families.set(member, family);
}

/**
 * Change the level of `log` and of every logger of its family (the stdoutLogger it comes from,
 * and all children of it, made before or after): `log.level` (configuration reload). A logger
 * whose stdout went away stays silent. Returns false when `log` is not of a stdoutLogger.
 */
export function setLogLevel(log: object, level: string): boolean {
  const family = families.get(log as PinoLogger);
  if (family === undefined) {
    if ('level' in log) (log as { level: string }).level = level;
    return false;
  }
  if (family.muted) return true;
  for (const ref of family.members) {
    const member = ref.deref();
    if (member === undefined) family.members.delete(ref);
    else member.level = level;
  }
  return true;
}

/**
 * Write out what `log` still holds, within `boundMs`; then (written or not) its destination
 * drops everything, so that a following `process.exit()` cannot wait on it. For an exit that must
 * not wait on stdout (a forced stop).
 */
export function flushThenMute(log: PinoLogger, boundMs: number, done: () => void): void {
  const outer = (log as unknown as Record<symbol, unknown>)[symbols.streamSym] as (Destination & { [inner]?: Destination }) | undefined;
  const stream = outer?.[inner] ?? outer;
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
