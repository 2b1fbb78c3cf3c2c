// Child processes of the suites: the short-lived ones (sipp, `parley user import`) are bounded by
// a watchdog; every one is ended only by its own PID (Parley's too, see support/parley.ts).
import { spawn } from 'node:child_process';

/** How a bounded child ended, with everything it printed. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface BoundedChild {
  /** undefined when it could not be spawned (`done` then rejects). */
  readonly pid: number | undefined;
  /** Still running? */
  readonly running: () => boolean;
  /** SIGKILL to its PID, if it is still running. */
  readonly kill: () => void;
  /** Resolves when it has exited and its output is closed; rejects if it could not be spawned. */
  readonly done: Promise<ChildExit>;
}

export interface BoundedOptions {
  readonly cwd: string;
  /** The watchdog: SIGKILL to the child's PID when it is still running after this long. */
  readonly timeoutMs: number;
  /** How its output is decoded (default utf8; sipp traces are latin1). */
  readonly encoding?: BufferEncoding;
  /** Called with each piece of its output (stdout and stderr) as it arrives. */
  readonly onOutput?: (text: string) => void;
}

/** Start `command` (stdin /dev/null, stdout and stderr collected) under a watchdog. */
export function spawnBounded(command: string, args: readonly string[], o: BoundedOptions): BoundedChild {
  const child = spawn(command, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString(o.encoding ?? 'utf8');
    stdout += text;
    o.onOutput?.(text);
  });
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString(o.encoding ?? 'utf8');
    stderr += text;
    o.onOutput?.(text);
  });
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const kill = (): void => {
    if (running()) signalPid(child.pid!, 'SIGKILL');
  };
  const watchdog = setTimeout(kill, o.timeoutMs);
  const done = new Promise<ChildExit>((res, rej) => {
    child.once('error', (e) => {
      clearTimeout(watchdog);
      rej(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(watchdog);
      res({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid, running, kill, done };
}

/**
 * Send `signal` to `pid`, a process this test process started. False when it no longer exists
 * (it exited between the caller's check and the kill); other errors are thrown.
 */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
