import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PARLEY_CLI, REPO_ROOT, type LogLine, type ParleyTransport } from './parley.js';
import type { PortPool } from './port-pool.js';
import { importSubscribers, type Subscriber } from './subscribers.js';

export interface ParleyServerOptions {
  /** Where the listening ports come from (the suite's slice of 27000-27999). */
  readonly pool: PortPool;
  /** Subscribers imported into the new data directory before the first start. */
  readonly subscribers?: readonly Subscriber[];
  /** Listeners (default all three); UDP and TCP share a port, TLS has the next one. */
  readonly transports?: readonly ParleyTransport[];
  /** --log-level (default debug: a failing test prints what Parley decided). */
  readonly logLevel?: string;
  readonly readyTimeoutMs?: number;
}

/** How one run of the process ended. */
export interface ParleyExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** SIGTERM did not end it within the grace time: it was SIGKILLed. */
  readonly killed: boolean;
}

/**
 * `parley serve` as a child process, like support/parley.ts's ParleyProcess, but for suites
 * that need more: subscribers imported before the start, ports from the 27000-27999 range, and
 * a restart (SIGTERM, then a new process on the same ports and data directory).
 */
export class ParleyServer {
  readonly host = '127.0.0.1';
  /** Every JSON log line of every run, in order. */
  readonly logs: LogLine[] = [];
  /** Non-JSON stdout and all stderr of every run. */
  readonly otherOutput: string[] = [];
  /** The "Parley is ready" line of the current run. */
  readyLine: LogLine | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    /** UDP and TCP port (undefined when neither listens). */
    readonly port: number | undefined,
    readonly tlsPort: number | undefined,
    readonly dataDir: string,
    private readonly listen: readonly string[],
    private readonly options: ParleyServerOptions,
  ) {}

  static async start(options: ParleyServerOptions): Promise<ParleyServer> {
    if (!existsSync(PARLEY_CLI)) throw new Error(`${PARLEY_CLI} is missing: run "npm run build" first (npm run test:interop does)`);
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-interop-'));
    try {
      if (options.subscribers !== undefined && options.subscribers.length > 0) await importSubscribers(dataDir, options.subscribers);
      const transports = options.transports ?? ['udp', 'tcp', 'tls'];
      let lastError: Error | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        const base = await options.pool.block(2);
        const port = transports.includes('udp') || transports.includes('tcp') ? base : undefined;
        const tlsPort = transports.includes('tls') ? base + 1 : undefined;
        const listen = transports.map((t) => `${t}:127.0.0.1:${t === 'tls' ? tlsPort : port}`);
        const server = new ParleyServer(port, tlsPort, dataDir, listen, options);
        try {
          await server.spawn();
          return server;
        } catch (e) {
          lastError = e as Error;
          if (!/EADDRINUSE|address already in use/i.test(lastError.message)) throw lastError;
        }
      }
      throw lastError!;
    } catch (e) {
      await rm(dataDir, { recursive: true, force: true });
      throw e;
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start a process on this server's ports and data directory and wait for "Parley is ready". */
  private async spawn(): Promise<void> {
    const args = [PARLEY_CLI, 'serve', '--listen', ...this.listen, '--data-dir', this.dataDir, '--log-level', this.options.logLevel ?? 'debug'];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.readyLine = undefined;
    this.exited = new Promise((res) => child.once('exit', () => res()));
    let ready: ((line: LogLine) => void) | undefined;
    const readyP = new Promise<LogLine>((res) => (ready = res));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        this.otherOutput.push(line);
        return;
      }
      this.logs.push(parsed);
      if (parsed.msg === 'Parley is ready') ready?.(parsed);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.otherOutput.push(line));

    const timeoutMs = this.options.readyTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      readyP.then((line) => ({ kind: 'ready' as const, line })),
      this.exited.then(() => ({ kind: 'exit' as const })),
      new Promise<{ kind: 'error'; err: Error }>((res) => child.once('error', (err) => res({ kind: 'error', err }))),
      new Promise<{ kind: 'timeout' }>((res) => (timer = setTimeout(() => res({ kind: 'timeout' }), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome.kind === 'ready') {
      this.readyLine = outcome.line;
      return;
    }
    if (this.alive && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      await this.exited;
    }
    const why = outcome.kind === 'exit' ? `exited with code ${child.exitCode}` : outcome.kind === 'error' ? `could not be spawned (${outcome.err.message})` : `not ready within ${timeoutMs} ms`;
    throw new Error(`Parley (${args.slice(1).join(' ')}) ${why}; its output:\n${this.outputTail(20)}`);
  }

  /** SIGTERM by pid; SIGKILL by pid if it is still running after `graceMs`. */
  private async terminate(graceMs: number): Promise<ParleyExit> {
    const child = this.child;
    if (child === undefined) return { code: null, signal: null, killed: false };
    let killed = false;
    if (this.alive && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([this.exited.then(() => true), new Promise<boolean>((res) => (timer = setTimeout(() => res(false), graceMs)))]);
      clearTimeout(timer);
      if (!inTime && this.alive) {
        killed = true;
        process.kill(child.pid, 'SIGKILL');
        await this.exited;
      }
    }
    return { code: child.exitCode, signal: child.signalCode, killed };
  }

  /**
   * Stop the process with SIGTERM (the data directory stays), then start a new one on the same
   * ports and data directory. Resolves with how the old one ended.
   */
  async restart(graceMs = 5000): Promise<ParleyExit> {
    const exit = await this.terminate(graceMs);
    await this.spawn();
    return exit;
  }

  /** SIGTERM (SIGKILL after `graceMs`) and remove the data directory. */
  async stop(graceMs = 5000): Promise<ParleyExit> {
    const exit = await this.terminate(graceMs);
    await rm(this.dataDir, { recursive: true, force: true });
    return exit;
  }

  outputTail(lines = 40): string {
    return [...this.logs.map((l) => JSON.stringify(l)), ...this.otherOutput].slice(-lines).join('\n');
  }

  /** Log lines at warn (40) or above, besides the development-certificate notice. */
  problems(): LogLine[] {
    return this.logs.filter((l) => (l.level ?? 0) >= 40 && !/development certificate/.test(l.msg ?? ''));
  }
}
