import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { freePortBlock } from './ports.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The built CLI: the suites test what `npm run build` produced (`npm run test:interop` builds first). */
export const PARLEY_CLI = join(REPO_ROOT, 'dist/cli/main.js');

export type ParleyTransport = 'udp' | 'tcp' | 'tls';

export interface ParleyOptions {
  /** Listeners to open (default all three); UDP and TCP share a port, TLS has its own. */
  readonly transports?: readonly ParleyTransport[];
  /** --log-level (default info). */
  readonly logLevel?: string;
  /** How long to wait for "Parley is ready" (default 15 s). */
  readonly readyTimeoutMs?: number;
}

/** One JSON log line Parley printed. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/**
 * Parley runs under a small sh guard: the guard starts it, reports its PID on fd 3, and SIGKILLs
 * that PID if the guard's stdin (a pipe from this test process) reaches end-of-file, i.e. if the
 * test process dies without stopping it (killed by the test runner, or `| head` closing its
 * output), then removes its data directory. Otherwise the guard just waits for Parley and exits
 * with its status. Parley itself is always stopped by its own PID.
 */
const GUARD = [
  'exec 4<&0', // an asynchronous list's stdin would be /dev/null: keep the pipe on fd 4
  '"$@" </dev/null 3>&- 4<&- &',
  'pid=$!',
  'echo "$pid" >&3',
  // the guard's own stdout/stderr are Parley's pipes: write nothing there (sh reports a killed
  // job on stderr, and a write to a closed pipe would kill the guard before its clean-up)
  'exec 3>&- >/dev/null 2>&1',
  "trap '' PIPE",
  // on EOF: mark, then kill Parley
  '( read -r _ <&4; : > "$PARLEY_GUARD_DATA_DIR/.orphaned"; kill -KILL "$pid" 2>/dev/null ) &',
  'reader=$!',
  'wait "$pid"; status=$?',
  // killed by the reader: remove the data directory; a normal stop: end the reader
  'if [ -e "$PARLEY_GUARD_DATA_DIR/.orphaned" ]; then rm -rf "$PARLEY_GUARD_DATA_DIR"; else kill "$reader" 2>/dev/null; fi',
  'exit "$status"',
].join('\n');

/**
 * A Parley server started as a child process (`parley serve`) on loopback ports from the
 * interop range, with its own temporary data directory.
 */
export class ParleyProcess {
  private readonly exited: Promise<void>;

  private constructor(
    /** The sh guard; it exits when Parley exits, with Parley's status. */
    private readonly guard: ChildProcess,
    /** Parley's own PID. */
    readonly pid: number,
    readonly host: string,
    /** UDP and TCP port (undefined when neither was asked for). */
    readonly port: number | undefined,
    readonly tlsPort: number | undefined,
    readonly dataDir: string,
    /** The listeners as Parley reported them in its ready line. */
    readonly listeners: readonly string[],
    /** Every JSON log line Parley printed on stdout (filled as they arrive). */
    readonly logs: LogLine[],
    /** stdout lines that were not JSON, and all of stderr. */
    readonly otherOutput: string[],
  ) {
    this.exited = new Promise((res) => {
      if (guard.exitCode !== null || guard.signalCode !== null) res();
      else guard.once('exit', () => res());
    });
  }

  /** Still running (its guard exits as soon as Parley does). */
  get alive(): boolean {
    return this.guard.exitCode === null && this.guard.signalCode === null;
  }

  /** Parley's exit status once it has exited (128 + n after signal n), else null. */
  get exitCode(): number | null {
    return this.guard.exitCode;
  }

  /**
   * Start Parley and wait until it logs "Parley is ready". Retries on other ports if a port
   * was taken in the meantime; fails with Parley's own output when it cannot start.
   */
  static async start(options: ParleyOptions = {}): Promise<ParleyProcess> {
    if (!existsSync(PARLEY_CLI)) throw new Error(`${PARLEY_CLI} is missing: run "npm run build" first (npm run test:interop does)`);
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await ParleyProcess.startOnce(options);
      } catch (e) {
        lastError = e as Error;
        if (!/EADDRINUSE|address already in use/i.test(lastError.message)) throw lastError;
      }
    }
    throw lastError!;
  }

  private static async startOnce(options: ParleyOptions): Promise<ParleyProcess> {
    const transports = options.transports ?? ['udp', 'tcp', 'tls'];
    const host = '127.0.0.1';
    const base = await freePortBlock(2);
    const port = transports.includes('udp') || transports.includes('tcp') ? base : undefined;
    const tlsPort = transports.includes('tls') ? base + 1 : undefined;
    const listen = transports.map((t) => `${t}:${host}:${t === 'tls' ? tlsPort : port}`);
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-interop-'));
    const args = [PARLEY_CLI, 'serve', '--listen', ...listen, '--data-dir', dataDir, '--log-level', options.logLevel ?? 'info'];
    const guard = spawn('/bin/sh', ['-c', GUARD, 'parley-guard', process.execPath, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PARLEY_GUARD_DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    // the guard's stdin stays open (and unwritten) for as long as this process lives
    guard.stdin!.on('error', () => {});
    const pidP = new Promise<number | undefined>((res) => {
      let text = '';
      const fd3 = guard.stdio[3] as Readable;
      fd3.on('data', (d: Buffer) => (text += d.toString()));
      fd3.on('end', () => res(/^\d+/.test(text) ? Number.parseInt(text, 10) : undefined));
      fd3.on('error', () => res(undefined));
    });
    const logs: LogLine[] = [];
    const other: string[] = [];
    let ready: ((listeners: string[]) => void) | undefined;
    const readyP = new Promise<string[]>((res) => (ready = res));
    createInterface({ input: guard.stdout! }).on('line', (line) => {
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        other.push(line);
        return;
      }
      logs.push(parsed);
      if (parsed.msg === 'Parley is ready') ready?.((parsed.listeners as string[] | undefined) ?? []);
    });
    createInterface({ input: guard.stderr! }).on('line', (line) => other.push(line));

    const timeoutMs = options.readyTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      readyP.then((l) => ({ kind: 'ready' as const, listeners: l })),
      new Promise<{ kind: 'exit'; code: number | null }>((res) => guard.once('exit', (code) => res({ kind: 'exit', code }))),
      new Promise<{ kind: 'error'; err: Error }>((res) => guard.once('error', (err) => res({ kind: 'error', err }))),
      new Promise<{ kind: 'timeout' }>((res) => (timer = setTimeout(() => res({ kind: 'timeout' }), timeoutMs))),
    ]);
    clearTimeout(timer);
    const pid = await Promise.race([pidP, new Promise<undefined>((res) => setTimeout(() => res(undefined), 2000))]);
    if (outcome.kind === 'ready' && pid !== undefined) {
      return new ParleyProcess(guard, pid, host, port, tlsPort, dataDir, outcome.listeners, logs, other);
    }

    // not ready: stop it (by PID) and report what it said
    if (guard.exitCode === null && guard.signalCode === null) {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      guard.stdin!.end(); // and the guard's own kill, should the PID be unknown
      await new Promise((res) => guard.once('exit', res));
    }
    await rm(dataDir, { recursive: true, force: true });
    const said = [...logs.map((l) => JSON.stringify(l)), ...other].slice(-20).join('\n');
    const why =
      outcome.kind === 'exit' ? `exited with code ${outcome.code}`
      : outcome.kind === 'error' ? `could not be spawned (${outcome.err.message})`
      : outcome.kind === 'timeout' ? `not ready within ${timeoutMs} ms`
      : 'started, but its guard did not report its PID';
    throw new Error(`Parley (${args.slice(1).join(' ')}) ${why}; its output:\n${said}`);
  }

  /** Output so far (log lines as JSON text, then other lines), for failure messages. */
  outputTail(lines = 30): string {
    return [...this.logs.map((l) => JSON.stringify(l)), ...this.otherOutput].slice(-lines).join('\n');
  }

  /** Log lines at level warn (40) or above: a clean run has none besides the dev-certificate notice. */
  problems(): LogLine[] {
    return this.logs.filter((l) => (l.level ?? 0) >= 40 && !/development certificate/.test(l.msg ?? ''));
  }

  /**
   * SIGTERM to Parley's PID, wait for the exit (up to `graceMs`), then SIGKILL to that PID;
   * removes the data directory. Resolves with Parley's exit status and whether it had to be killed.
   */
  async stop(graceMs = 5000): Promise<{ code: number | null; killed: boolean }> {
    let killed = false;
    if (this.alive) {
      process.kill(this.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([this.exited.then(() => true), new Promise<boolean>((res) => (timer = setTimeout(() => res(false), graceMs)))]);
      clearTimeout(timer);
      if (!inTime && this.alive) {
        killed = true;
        process.kill(this.pid, 'SIGKILL');
        await this.exited;
      }
    }
    this.guard.stdin!.end();
    await rm(this.dataDir, { recursive: true, force: true });
    return { code: this.guard.exitCode, killed };
  }
}
