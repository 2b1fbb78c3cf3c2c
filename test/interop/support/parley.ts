import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
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
 * A Parley server started as a child process (`parley serve`) on loopback ports from the
 * interop range, with its own temporary data directory.
 */
export class ParleyProcess {
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
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
      if (child.exitCode !== null || child.signalCode !== null) res();
      else child.once('exit', () => res());
    });
    child.once('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Still running (the process has not exited). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
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
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const logs: LogLine[] = [];
    const other: string[] = [];
    let ready: ((listeners: string[]) => void) | undefined;
    const readyP = new Promise<string[]>((res) => (ready = res));
    createInterface({ input: child.stdout! }).on('line', (line) => {
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
    createInterface({ input: child.stderr! }).on('line', (line) => other.push(line));

    const timeoutMs = options.readyTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      readyP.then((l) => ({ kind: 'ready' as const, listeners: l })),
      new Promise<{ kind: 'exit'; code: number | null }>((res) => child.once('exit', (code) => res({ kind: 'exit', code }))),
      new Promise<{ kind: 'error'; err: Error }>((res) => child.once('error', (err) => res({ kind: 'error', err }))),
      new Promise<{ kind: 'timeout' }>((res) => (timer = setTimeout(() => res({ kind: 'timeout' }), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome.kind === 'ready') return new ParleyProcess(child, host, port, tlsPort, dataDir, outcome.listeners, logs, other);

    // not ready: stop it (by pid) and report what it said
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      await new Promise((res) => child.once('exit', res));
    }
    await rm(dataDir, { recursive: true, force: true });
    const said = [...logs.map((l) => JSON.stringify(l)), ...other].slice(-20).join('\n');
    const why = outcome.kind === 'exit' ? `exited with code ${outcome.code}` : outcome.kind === 'error' ? `could not be spawned (${outcome.err.message})` : `not ready within ${timeoutMs} ms`;
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
   * SIGTERM by pid, wait for the exit (up to `graceMs`), then SIGKILL by pid; removes the data
   * directory. Resolves with how it ended.
   */
  async stop(graceMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
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
    await rm(this.dataDir, { recursive: true, force: true });
    return { code: this.child.exitCode, signal: this.child.signalCode, killed };
  }
}
