// Parley under test: `parley serve` started from the built CLI on loopback ports of the test
// file's pool, with its own data directory (subscribers imported first), stopped and restarted
// by its PID, and killed by a guard should the test process die without stopping it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { signalPid, spawnBounded } from './child.js';
import type { PortPool } from './ports.js';
import { subscribersCsv, type Subscriber } from './subscribers.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The built CLI: the suites test what `npm run build` produced (`npm run test:interop` builds first). */
export const PARLEY_CLI = join(REPO_ROOT, 'dist/cli/main.js');

export type ParleyTransport = 'udp' | 'tcp' | 'tls';

export interface ParleyOptions {
  /** Where the listening ports come from: the test file's slice (support/ports.ts). */
  readonly pool: PortPool;
  /** Subscribers imported (`parley user import`) into the new data directory before the first start. */
  readonly subscribers?: readonly Subscriber[];
  /** Listeners to open (default all three); UDP and TCP share a port, TLS has the next one. */
  readonly transports?: readonly ParleyTransport[];
  /**
   * HTTP listeners carrying SIP over WebSocket (`--listen ws:` / `wss:`), on the two ports after
   * TLS's: `auth` (digest authentication, the default of Parley) or `noauth` (trusted).
   */
  readonly webSockets?: Readonly<Partial<Record<'ws' | 'wss', 'auth' | 'noauth'>>>;
  /** `serve --demo`: alice and bob with random passwords, printed on stderr (`otherOutput`). */
  readonly demo?: boolean;
  /**
   * A configuration (written as JSON into the data directory, `--config`); `--listen` still sets
   * the SIP listeners. Its `turn` section is the TURN server's; without one, TURN is off
   * (`turn.enabled: false`): parallel test Parleys would all ask for UDP 3478 on 127.0.0.1. Its
   * `media` section likewise: without one the media plane is off (`media.enabled: false`), so that
   * suites written before it see the SDP their peers wrote.
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** --log-level (default info; debug makes a failing call test print what Parley decided). */
  readonly logLevel?: string;
  /** How long to wait for "Parley is ready" (default 15 s). */
  readonly readyTimeoutMs?: number;
  /** --workers (default: Parley's own, one SIP worker thread per core). */
  readonly workers?: number;
  /** --script: a routing script file (default: the built-in default script). */
  readonly script?: string;
}

/** One JSON log line Parley printed. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** How one Parley process ended. */
export interface ParleyExit {
  /** Its exit status as sh reports it: 128 + n after signal n. */
  readonly code: number | null;
  /** The signal that ended it (read from a status above 128). */
  readonly signal: NodeJS.Signals | null;
  /** SIGTERM did not end it within the grace time: it was SIGKILLed. */
  readonly killed: boolean;
}

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

/** One Parley process and its guard. */
interface Run {
  /** The sh guard; it exits when Parley exits, with Parley's status. */
  readonly guard: ChildProcess;
  /** Parley's own PID (known once the guard has reported it). */
  pid: number | undefined;
  readonly exited: Promise<void>;
}

function signalOf(status: number | null): NodeJS.Signals | null {
  if (status === null || status <= 128) return null;
  const found = Object.entries(constants.signals).find(([, n]) => n === status - 128);
  return found === undefined ? null : (found[0] as NodeJS.Signals);
}

/** Add subscribers to a data directory with `parley user import FILE.csv` (all or nothing). */
export async function importSubscribers(dataDir: string, subscribers: readonly Subscriber[]): Promise<void> {
  const csv = join(dataDir, 'subscribers.csv');
  await writeFile(csv, subscribersCsv(subscribers), { mode: 0o600 });
  const args = [PARLEY_CLI, 'user', 'import', csv, '--data-dir', dataDir];
  try {
    const r = await spawnBounded(process.execPath, args, { cwd: REPO_ROOT, timeoutMs: 30_000 }).done;
    if (r.code !== 0) throw new Error(`parley ${args.slice(1).join(' ')} exited with ${r.code ?? r.signal}:\n${r.stdout}${r.stderr}`);
  } finally {
    await rm(csv, { force: true });
  }
}

/**
 * `parley serve` as a child process on 127.0.0.1: ports from the test file's pool, a temporary
 * data directory, and a restart (SIGTERM, then a new process on the same ports and data
 * directory). Logs of every process it ran are kept in order.
 */
export class ParleyServer {
  readonly host = '127.0.0.1';
  /** Every JSON log line Parley printed on stdout, of every process, in order. */
  readonly logs: LogLine[] = [];
  /** stdout lines that were not JSON, and all of stderr. */
  readonly otherOutput: string[] = [];
  /** The "Parley is ready" line of the current process. */
  readyLine: LogLine | undefined;
  private run: Run | undefined;

  private constructor(
    /** UDP and TCP port (undefined when neither listens). */
    readonly port: number | undefined,
    readonly tlsPort: number | undefined,
    readonly dataDir: string,
    /** The pool the ports came from; sipp peers of the same test file take theirs from it too. */
    readonly pool: PortPool,
    private readonly listen: readonly string[],
    private readonly options: ParleyOptions,
    /** Ports of the SIP over WebSocket listeners (ParleyOptions.webSockets). */
    readonly webPorts: Readonly<Partial<Record<'ws' | 'wss', number>>> = {},
  ) {}

  /** `ws://127.0.0.1:PORT/sip` or `wss://…`: where a WebSocket SIP client connects. */
  webSocketUrl(transport: 'ws' | 'wss', path = '/sip'): string {
    const port = this.webPorts[transport];
    if (port === undefined) throw new Error(`Parley does not listen on ${transport}`);
    return `${transport}://${this.host}:${port}${path}`;
  }

  /** https://127.0.0.1:PORT: where a browser opens Parley's pages on the wss listener (/phone). */
  get httpsOrigin(): string {
    const port = this.webPorts.wss;
    if (port === undefined) throw new Error('Parley does not listen on wss');
    return `https://${this.host}:${port}`;
  }

  /** The development certificate Parley generated in its data directory (trust it for wss). */
  developmentCertificate(): Promise<string> {
    return readFile(join(this.dataDir, 'tls', 'dev-cert.pem'), 'utf8');
  }

  /**
   * Import the subscribers, start Parley and wait until it logs "Parley is ready". Retries on
   * other ports if a port was taken in the meantime; fails with Parley's own output when it
   * cannot start.
   */
  static async start(options: ParleyOptions): Promise<ParleyServer> {
    if (!existsSync(PARLEY_CLI)) throw new Error(`${PARLEY_CLI} is missing: run "npm run build" first (npm run test:interop does)`);
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-interop-'));
    try {
      if (options.subscribers !== undefined && options.subscribers.length > 0) await importSubscribers(dataDir, options.subscribers);
      const config = { ...options.config, turn: options.config?.turn ?? { enabled: false }, media: options.config?.media ?? { enabled: false } };
      await writeFile(join(dataDir, 'parley.json'), JSON.stringify(config, null, 2));
      const transports = options.transports ?? ['udp', 'tcp', 'tls'];
      let lastError: Error | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        const web = options.webSockets ?? {};
        const base = await options.pool.block(web.ws !== undefined || web.wss !== undefined ? 4 : 2);
        const port = transports.includes('udp') || transports.includes('tcp') ? base : undefined;
        const tlsPort = transports.includes('tls') ? base + 1 : undefined;
        const listen = transports.map((t) => `${t}:127.0.0.1:${t === 'tls' ? tlsPort : port}`);
        const webPorts = { ...(web.ws === undefined ? {} : { ws: base + 2 }), ...(web.wss === undefined ? {} : { wss: base + 3 }) };
        for (const t of ['ws', 'wss'] as const) if (web[t] !== undefined) listen.push(`${t}:127.0.0.1:${webPorts[t]}${web[t] === 'noauth' ? ';noauth' : ''}`);
        const server = new ParleyServer(port, tlsPort, dataDir, options.pool, listen, options, webPorts);
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

  /** The current process's PID. */
  get pid(): number | undefined {
    return this.run?.pid;
  }

  /** The current process is still running (its guard exits as soon as Parley does). */
  get alive(): boolean {
    const guard = this.run?.guard;
    return guard !== undefined && guard.exitCode === null && guard.signalCode === null;
  }

  /** The current process's exit status once it has exited (128 + n after signal n), else null. */
  get exitCode(): number | null {
    return this.run?.guard.exitCode ?? null;
  }

  /** The listeners as the current process reported them in its ready line. */
  get listeners(): readonly string[] {
    return (this.readyLine?.listeners as string[] | undefined) ?? [];
  }

  /** The port a peer reaches Parley on over `transport`. */
  portFor(transport: ParleyTransport): number {
    const port = transport === 'tls' ? this.tlsPort : this.port;
    if (port === undefined) throw new Error(`Parley does not listen on ${transport}`);
    return port;
  }

  /**
   * Where a sipp peer reaches Parley over `transport` (default UDP), and the pool its own ports
   * come from: spread into support/sipp.ts's options.
   */
  sippTarget(transport: ParleyTransport = 'udp'): { host: string; port: number; transport: ParleyTransport; pool: PortPool } {
    return { host: this.host, port: this.portFor(transport), transport, pool: this.pool };
  }

  /** Start a process (under its guard) on this server's ports and data directory; wait until it is ready. */
  private async spawn(): Promise<void> {
    const args = [PARLEY_CLI, 'serve', '--listen', ...this.listen, '--data-dir', this.dataDir, '--log-level', this.options.logLevel ?? 'info', ...(this.options.demo ? ['--demo'] : []), '--config', join(this.dataDir, 'parley.json')];
    if (this.options.workers !== undefined) args.push('--workers', String(this.options.workers));
    if (this.options.script !== undefined) args.push('--script', this.options.script);
    const guard = spawn('/bin/sh', ['-c', GUARD, 'parley-guard', process.execPath, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PARLEY_GUARD_DATA_DIR: this.dataDir },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    // the guard's stdin stays open (and unwritten) for as long as this process lives
    guard.stdin!.on('error', () => {});
    const run: Run = { guard, pid: undefined, exited: new Promise((res) => guard.once('exit', () => res())) };
    this.run = run;
    this.readyLine = undefined;
    const pidP = new Promise<number | undefined>((res) => {
      let text = '';
      const fd3 = guard.stdio[3] as Readable;
      fd3.on('data', (d: Buffer) => (text += d.toString()));
      fd3.on('end', () => res(/^\d+/.test(text) ? Number.parseInt(text, 10) : undefined));
      fd3.on('error', () => res(undefined));
    });
    let ready: ((line: LogLine) => void) | undefined;
    const readyP = new Promise<LogLine>((res) => (ready = res));
    createInterface({ input: guard.stdout! }).on('line', (line) => {
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
    createInterface({ input: guard.stderr! }).on('line', (line) => this.otherOutput.push(line));

    const timeoutMs = this.options.readyTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      readyP.then((line) => ({ kind: 'ready' as const, line })),
      run.exited.then(() => ({ kind: 'exit' as const })),
      new Promise<{ kind: 'error'; err: Error }>((res) => guard.once('error', (err) => res({ kind: 'error', err }))),
      new Promise<{ kind: 'timeout' }>((res) => (timer = setTimeout(() => res({ kind: 'timeout' }), timeoutMs))),
    ]);
    clearTimeout(timer);
    run.pid = await Promise.race([pidP, new Promise<undefined>((res) => setTimeout(() => res(undefined), 2000))]);
    if (outcome.kind === 'ready' && run.pid !== undefined) {
      this.readyLine = outcome.line;
      return;
    }

    // not ready: stop it (by PID) and report what it said
    if (this.alive) {
      if (run.pid !== undefined) signalPid(run.pid, 'SIGKILL');
      guard.stdin!.end(); // and the guard's own kill, should the PID be unknown
      await run.exited;
    }
    const why =
      outcome.kind === 'exit' ? `exited with code ${guard.exitCode}`
      : outcome.kind === 'error' ? `could not be spawned (${outcome.err.message})`
      : outcome.kind === 'timeout' ? `not ready within ${timeoutMs} ms`
      : 'started, but its guard did not report its PID';
    throw new Error(`Parley (${args.slice(1).join(' ')}) ${why}; its output:\n${this.outputTail(20)}`);
  }

  /** SIGTERM to Parley's PID, wait for the exit (up to `graceMs`), then SIGKILL to that PID. */
  private async terminate(graceMs: number): Promise<ParleyExit> {
    const run = this.run;
    if (run === undefined) return { code: null, signal: null, killed: false };
    let killed = false;
    if (this.alive && run.pid !== undefined) {
      signalPid(run.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([run.exited.then(() => true), new Promise<boolean>((res) => (timer = setTimeout(() => res(false), graceMs)))]);
      clearTimeout(timer);
      if (!inTime && this.alive) {
        killed = true;
        signalPid(run.pid, 'SIGKILL');
        await run.exited;
      }
    }
    // the guard has exited with Parley: closing its stdin now kills nothing
    run.guard.stdin!.end();
    const code = run.guard.exitCode;
    return { code, signal: signalOf(code) ?? run.guard.signalCode, killed };
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

  /** Output so far (log lines as JSON text, then other lines), for failure messages. */
  outputTail(lines = 40): string {
    return [...this.logs.map((l) => JSON.stringify(l)), ...this.otherOutput].slice(-lines).join('\n');
  }

  /**
   * Run `parley <args>` against this server's data directory (e.g. `reload`, `trace show ID`),
   * bounded; resolves with its exit and output.
   */
  async cli(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const r = await spawnBounded(process.execPath, [PARLEY_CLI, ...args, '--data-dir', this.dataDir], { cwd: REPO_ROOT, timeoutMs }).done;
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** Log lines at level warn (40) or above: a clean run has none besides the dev-certificate notice. */
  problems(): LogLine[] {
    return this.logs.filter((l) => (l.level ?? 0) >= 40 && !/development certificate/.test(l.msg ?? ''));
  }
}

/** A process of `server` ended with status 0 on SIGTERM, within the grace time. */
export function assertCleanExit(server: ParleyServer, exit: ParleyExit): void {
  assert.equal(exit.killed, false, 'Parley did not stop on SIGTERM within 5 s');
  assert.equal(exit.code, 0, `Parley exited with ${exit.code}:\n${server.outputTail()}`);
}

/** Stop `server` (when it was started) and assert that it ended cleanly on SIGTERM. */
export async function stopCleanly(server: ParleyServer | undefined): Promise<void> {
  if (server !== undefined) assertCleanExit(server, await server.stop());
}
