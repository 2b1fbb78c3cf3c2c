/** One pino-style log method: `log(obj, msg)` or `log(msg)`. */
export type LogFn = (objOrMessage: unknown, message?: string, ...args: unknown[]) => void;

/**
 * The logger Parley's layers write to: the subset of pino's `Logger` it uses, so a pino
 * logger (or a child of one) can be passed as is.
 */
export interface Logger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

/** A logger that discards everything (the default when none is injected). */
export const silentLogger: Logger = {
  info: noop,
  warn: noop,
  error: noop,
  debug: noop,
  child: () => silentLogger,
};
