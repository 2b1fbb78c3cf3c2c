// Kamailio, the independent SIP-over-WebSocket server of the load tool's interop suite, from the
// shared benchmark configuration (../shared/bench/kamailio/kamailio.cfg beside this repository,
// or $KAMAILIO_CFG): registrar and proxy, plain WS listener, digest auth with -A WITH_AUTH (every
// user's password is benchpass, realm = To domain). Started on ports of the test file's pool,
// under a guard that stops it if the test process dies, and stopped by its PID (and its
// children's PIDs, should they outlive it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { signalPid, spawnBounded } from './child.js';
import { REPO_ROOT } from './parley.js';
import type { PortPool } from './ports.js';

/** The password of every user in the shared configuration (AUTH_PASSWORD). */
export const KAMAILIO_PASSWORD = 'benchpass';

export const KAMAILIO_CFG = process.env.KAMAILIO_CFG ?? resolve(REPO_ROOT, '../shared/bench/kamailio/kamailio.cfg');

/** The media suites' configuration (this folder's kamailio-rtpengine.cfg): registrar, proxy, WebSocket, the rtpengine module. */
export const KAMAILIO_RTPENGINE_CFG = resolve(REPO_ROOT, 'test/interop/support/kamailio-rtpengine.cfg');

/** Why Kamailio cannot run here (binary, WebSocket module or configuration missing), or undefined. */
export function kamailioMissing(config = KAMAILIO_CFG): string | undefined {
  const v = spawnSync('kamailio', ['-v'], { encoding: 'utf8', timeout: 5000 });
  if (v.error !== undefined) return 'kamailio is not installed (Debian: apt-get install kamailio kamailio-websocket-modules)';
  const moduleDirs = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];
  if (!moduleDirs.some((d) => existsSync(join(d, 'websocket.so')))) return "kamailio's websocket module is missing (apt-get install kamailio-websocket-modules)";
  if (!existsSync(config)) return `the Kamailio configuration is missing at ${config}${config === KAMAILIO_CFG ? ' (set KAMAILIO_CFG)' : ''}`;
  return undefined;
}

/**
 * The `skip` option of a suite that needs Kamailio. Outside CI it is skipped when anything is
 * missing; in CI (which installs Kamailio) only when the shared configuration is not beside the
 * checkout, as nothing in this repository can provide it.
 */
export function skipWithoutKamailio(): string | false {
  const why = kamailioMissing();
  if (why === undefined) return false;
  if (!existsSync(KAMAILIO_CFG)) return `${why}; skipped`;
  return process.env.CI ? false : `${why}; skipped outside CI`;
}

export interface KamailioOptions {
  readonly pool: PortPool;
  /** -A WITH_AUTH: digest authentication on every listener (the WS one included). */
  readonly withAuth?: boolean;
  /**
   * Integer settings of the cfg framework changed once it runs (`kamcmd cfg.set_now_int GROUP NAME
   * VALUE`; the cfg_rpc module is loaded for it), e.g. ['registrar', 'min_expires', 1]. The shared
   * configuration itself is never edited.
   */
  readonly cfg?: ReadonlyArray<readonly [string, string, number]>;
  /** Another configuration file than the shared one (it must listen on WS_PORT, SIP_PORT and use CTL_SOCKET as that one does). */
  readonly config?: string;
  /** More -A NAME=value defines for that configuration (a string value in double quotes, as Kamailio reads it). */
  readonly defines?: Readonly<Record<string, string>>;
}

/** The sh guard: starts Kamailio, reports its PID on fd 3, TERMs it if stdin reaches EOF. */
const GUARD = [
  'exec 4<&0',
  '"$@" </dev/null 3>&- 4<&- &',
  'pid=$!',
  'echo "$pid" >&3',
  'exec 3>&-',
  "trap '' PIPE",
  '( read -r _ <&4; kill -TERM "$pid" 2>/dev/null; sleep 3; kill -KILL "$pid" 2>/dev/null ) &',
  'reader=$!',
  'wait "$pid"; status=$?',
  'kill "$reader" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** One contact in Kamailio's location table (usrloc `ul.dump`). */
export interface KamailioBinding {
  readonly aor: string;
  readonly address: string;
  instance?: string;
  regId?: number;
  userAgent?: string;
  expires?: number;
  received?: string;
}

/** A running Kamailio. */
export class KamailioServer {
  readonly host = '127.0.0.1';
  private output = '';

  private constructor(
    readonly wsPort: number,
    readonly sipPort: number,
    readonly dir: string,
    private readonly guard: ChildProcess,
    readonly pid: number,
  ) {
    guard.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    guard.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** ws://127.0.0.1:WS_PORT (Kamailio's xhttp answers the upgrade on any path). */
  get wsUrl(): string {
    return `ws://${this.host}:${this.wsPort}`;
  }

  /** The domain its users register in: host:port of the WS listener ("uri==myself"). */
  get domain(): string {
    return `${this.host}:${this.wsPort}`;
  }

  static async start(options: KamailioOptions): Promise<KamailioServer> {
    const missing = kamailioMissing(options.config);
    if (missing !== undefined) throw new Error(missing);
    const dir = await mkdtemp(join(tmpdir(), 'parley-kamailio-'));
    const base = await options.pool.block(3);
    const [sipPort, authPort, wsPort] = [base, base + 1, base + 2];
    const args = [
      '-f', options.config ?? KAMAILIO_CFG, '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'),
      '-m', '64', '-M', '8', '-n', '1', '-N', '2',
      '-A', `SIP_PORT=${sipPort}`, '-A', `AUTH_PORT=${authPort}`, '-A', `WS_PORT=${wsPort}`,
      '-A', `CTL_SOCKET="unix:${join(dir, 'ctl')}"`,
      ...(options.withAuth ? ['-A', 'WITH_AUTH'] : []),
      ...Object.entries(options.defines ?? {}).flatMap(([name, value]) => ['-A', `${name}=${value}`]),
      ...(options.cfg !== undefined && options.cfg.length > 0 ? ['--loadmodule=cfg_rpc.so'] : []),
    ];
    const guard = spawn('/bin/sh', ['-c', GUARD, 'kamailio-guard', 'kamailio', ...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    guard.stdin!.on('error', () => {});
    const pid = await new Promise<number | undefined>((res) => {
      let text = '';
      const fd3 = guard.stdio[3] as Readable;
      fd3.on('data', (d: Buffer) => (text += d.toString()));
      fd3.on('end', () => res(/^\d+/.test(text) ? Number.parseInt(text, 10) : undefined));
      fd3.on('error', () => res(undefined));
    });
    if (pid === undefined) {
      guard.stdin!.end();
      await rm(dir, { recursive: true, force: true });
      throw new Error('kamailio could not be started');
    }
    const k = new KamailioServer(wsPort, sipPort, dir, guard, pid);
    // ready when the WS port accepts connections (up to 10 s)
    for (let i = 0; i < 100; i++) {
      if (guard.exitCode !== null) break;
      if (await accepts(k.host, wsPort)) {
        try {
          for (const [group, name, value] of options.cfg ?? []) await k.kamcmd('cfg.set_now_int', group, name, String(value));
        } catch (e) {
          await k.stop();
          throw e;
        }
        return k;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = k.output;
    await k.stop();
    throw new Error(`kamailio did not listen on ${wsPort} within 10 s; its output:\n${out.slice(-3000)}`);
  }

  /** `kamcmd` on its control socket (bounded); resolves to stdout. */
  async kamcmd(...command: string[]): Promise<string> {
    const r = await spawnBounded('kamcmd', ['-s', `unix:${join(this.dir, 'ctl')}`, ...command], { cwd: this.dir, timeoutMs: 10_000 }).done;
    if (r.code !== 0) throw new Error(`kamcmd ${command.join(' ')} exited with ${r.code}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /**
   * The registered contacts, from `ul.dump`: read from Kamailio's own location table,
   * independently of what the load tool reports.
   */
  async bindings(): Promise<KamailioBinding[]> {
    const dump = await this.kamcmd('ul.dump');
    const out: KamailioBinding[] = [];
    let aor: string | undefined;
    let current: Partial<KamailioBinding> | undefined;
    for (const line of dump.split('\n')) {
      const m = /^\s*(AoR|Address|Instance|Reg-Id|User-Agent|Expires|Received):\s*(.*?)\s*$/.exec(line);
      if (!m) continue;
      const [, key, value] = m as unknown as [string, string, string];
      if (key === 'AoR') aor = value;
      else if (key === 'Address') {
        current = { aor: aor ?? '', address: value };
        out.push(current as KamailioBinding);
      } else if (current !== undefined) {
        if (key === 'Instance') current.instance = value;
        else if (key === 'Reg-Id') current.regId = Number(value);
        else if (key === 'User-Agent') current.userAgent = value;
        else if (key === 'Expires') current.expires = Number(value);
        else if (key === 'Received') current.received = value;
      }
    }
    return out;
  }

  /** Everything Kamailio printed (for failure messages). */
  outputTail(chars = 3000): string {
    return this.output.slice(-chars);
  }

  /** SIGTERM to its PID (its children follow), SIGKILL after 5 s; stray children by PID; remove its directory. */
  async stop(): Promise<void> {
    const children = childrenOf(this.pid);
    if (this.guard.exitCode === null) {
      signalPid(this.pid, 'SIGTERM');
      const exited = await Promise.race([
        new Promise<boolean>((res) => this.guard.once('exit', () => res(true))),
        new Promise<boolean>((res) => setTimeout(() => res(false), 5000)),
      ]);
      if (!exited) signalPid(this.pid, 'SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const c of children) {
      if (isKamailio(c)) signalPid(c, 'SIGKILL');
    }
    this.guard.stdin!.end();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** PIDs whose parent is `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may contain spaces, so read after the last ")"
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function isKamailio(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'kamailio';
  } catch {
    return false;
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}
