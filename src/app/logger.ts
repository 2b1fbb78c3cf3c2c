import { destination as pinoDestination, pino, type Logger as PinoLogger } from 'pino';

/**
 * JSON lines on stdout, written asynchronously. If stdout goes away (the reader of a pipe exits),
 * logging stops and the server keeps serving: a log line never blocks SIP. Worker threads make
 * their own (fd 1 is the process's).
 */
export function stdoutLogger(level: string): PinoLogger {
  const destination = pinoDestination({ dest: 1, sync: false });
  destination.on('error', () => {
    // EPIPE and friends: nothing more can be written; drop further lines
    log.level = 'silent';
  });
  const log = pino({ level }, destination);
  return log;
}
