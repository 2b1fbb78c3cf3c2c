// Debian's linphone (linphone-cli 5.1: liblinphone and belle-sip) as a real phone of the interop
// suites: `linphone-daemon`, headless, with a configuration file and a HOME of its own, driven on
// its command socket (`--pipe NAME`: a Unix socket /tmp/NAME; commands such as `register`,
// `call`, `terminate`, `unregister`, `register-status`, `pop-event`, `incall-player-start`, one `Status: Ok|Error` answer each).
// No sound card: mediastreamer finds none (no ALSA card, no PulseAudio) and the calls run without
// capture or playback.
//
// liblinphone 5.1 stays off when it cannot open its database: without the directory
// ~/.local/share/linphone it never opens its SIP ports and `register` answers Ok but nothing is
// ever sent (State: LinphoneRegistrationNone). So HOME is a fresh directory with that path.
// Every process is bounded twice: the `timeout` the suite gives (a watchdog SIGKILLs its PID),
// and `quit` on the command socket when the test is done.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tryConnect } from './try-connect.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBounded, type BoundedChild } from './child.js';
import type { ParleyTransport } from './parley.js';
import type { PortPool } from './ports.js';
import type { Credentials } from './subscribers.js';
import { parseSipTrace, type TracedMessage } from './client-trace.js';

export const LINPHONE_MISSING = 'linphone-daemon is not installed (Debian package linphone-cli: apt-get install linphone-cli)';

/** Is Debian's linphone-daemon installed? */
export function linphoneInstalled(): boolean {
  const r = spawnSync('linphone-daemon', ['--help'], { encoding: 'utf8', timeout: 5000 });
  return r.error === undefined && /--pipe/.test(`${r.stdout}${r.stderr}`);
}

/** The `skip` option of a suite that needs linphone: skipped without it, except in CI (which installs it). */
export function skipWithoutLinphone(): string | false {
  if (linphoneInstalled()) return false;
  return process.env.CI ? false : `${LINPHONE_MISSING}; skipped outside CI`;
}

export interface LinphoneOptions {
  /** The test file's pool: linphone's SIP and RTP ports come from it. */
  readonly pool: PortPool;
  readonly account: Credentials & { readonly domain?: string };
  /** Parley: its registrar and outbound proxy, and the transport to it. */
  readonly registrar: { readonly host: string; readonly port: number; readonly transport: ParleyTransport };
  /** PEM file of the CAs linphone trusts for TLS (`root_ca`); it verifies the server's certificate and name. */
  readonly cafile?: string;
  /** The watchdog, seconds (default 120). */
  readonly lifetimeSecs?: number;
}

/** One event of `pop-event`: e.g. { type: 'call-state-changed', event: 'LinphoneCallStreamsRunning', id: '1' }. */
export interface LinphoneEvent {
  readonly type: string;
  readonly event: string;
  readonly id?: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** Ports of one linphone: SIP over UDP and TCP at `base`, TLS at base + 1, audio RTP/RTCP at base + 2/3 (video is disabled: no port). */
const BLOCK = 4;

let counter = 0;

export class Linphone {
  /** Every event popped so far, in order. */
  readonly events: LinphoneEvent[] = [];
  private output = '';
  private log: string | undefined;
  /** The answers of commands in flight: one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private received = '';
  private onReceive: (() => void) | undefined;

  private constructor(
    readonly options: LinphoneOptions,
    readonly sipPort: number,
    private readonly dir: string,
    /** The command socket, /tmp/NAME: removed by `stop` should linphone not have (killed). */
    private readonly socketPath: string,
    private readonly child: BoundedChild,
    private readonly control: Socket,
  ) {
    control.on('data', (d: Buffer) => {
      this.received += d.toString('utf8');
      this.onReceive?.();
    });
  }

  get aor(): string {
    return `sip:${this.options.account.user}@${this.options.account.domain ?? '127.0.0.1'}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Start linphone-daemon with a fresh configuration and HOME (the account registers at once); resolves once its command socket answers. */
  static async start(o: LinphoneOptions): Promise<Linphone> {
    const base = await o.pool.block(BLOCK);
    const dir = await mkdtemp(join(tmpdir(), 'parley-linphone-'));
    await mkdir(join(dir, 'home', '.local', 'share', 'linphone'), { recursive: true });
    const { user, password, domain = '127.0.0.1' } = o.account;
    const { host, port, transport } = o.registrar;
    // over TLS by the name `localhost`: belle-sip's mbedTLS 2.28 skips IP addresses in the
    // certificate's subjectAltName ("<unsupported>"), so 127.0.0.1 never matches the development
    // certificate (CN-mismatch, "Certificate verification failed"); localhost, one of its DNS names, does
    const proxyHost = transport === 'tls' && host === '127.0.0.1' ? 'localhost' : host;
    const proxy = `<sip:${proxyHost}:${port};transport=${transport}>`;
    const config = [
      '[sip]',
      `sip_port=${base}`,
      `sip_tcp_port=${base}`,
      `sip_tls_port=${base + 1}`,
      'bind_address=127.0.0.1',
      // the account below is the default one: calls go through Parley, whatever their domain
      'default_proxy=0',
      ...(o.cafile === undefined ? [] : [`root_ca=${o.cafile}`, 'verify_server_certs=1', 'verify_server_cn=1']),
      '[rtp]',
      `audio_rtp_port=${base + 2}`,
      '[net]',
      'firewall_policy=0',
      '[video]',
      'enabled=0',
      'capture=0',
      'display=0',
      // the account, as linphone's own account settings write it: Parley as registrar and
      // outbound proxy; registers as soon as linphone starts
      '[proxy_0]',
      `reg_proxy=${proxy}`,
      `reg_route=${proxy}`,
      `reg_identity=sip:${user}@${domain}`,
      'reg_expires=3600',
      'reg_sendregister=1',
      'publish=0',
      '[auth_info_0]',
      `username=${user}`,
      `passwd=${password}`,
      `domain=${domain}`,
      '',
    ].join('\n');
    const rc = join(dir, 'linphonerc');
    await writeFile(rc, config);
    const pipe = `parley-linphone-${process.pid}-${++counter}-${base}`;
    const socketPath = join('/tmp', pipe);
    const lifetime = o.lifetimeSecs ?? 120;
    // env(1) execs linphone-daemon: the PID the watchdog kills is linphone's
    const child = spawnBounded('env', [`HOME=${join(dir, 'home')}`, 'linphone-daemon', '--config', rc, '--log', join(dir, 'linphone.log'), '--pipe', pipe, '--disable-stats-events'], {
      cwd: dir,
      timeoutMs: lifetime * 1000,
    });
    let control: Socket | undefined;
    const deadline = Date.now() + 15_000;
    while (control === undefined) {
      if (!child.running()) {
        const r = await child.done;
        await rm(dir, { recursive: true, force: true });
        await rm(socketPath, { force: true });
        throw new Error(`linphone-daemon exited at start (${r.code ?? r.signal}):\n${r.stdout}${r.stderr}`);
      }
      control = await tryConnect(socketPath);
      if (control === undefined) {
        if (Date.now() > deadline) {
          child.kill();
          const r = await child.done;
          await rm(dir, { recursive: true, force: true });
          await rm(socketPath, { force: true });
          throw new Error(`linphone-daemon's socket ${socketPath} did not open in 15 s:\n${r.stdout}${r.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const l = new Linphone(o, base, dir, socketPath, child, control);
    void child.done.then((r) => (l.output = `${r.stdout}${r.stderr}`));
    return l;
  }

  /**
   * Send one command line and return its answer's body (after `Status: Ok`); throws with the
   * Reason on `Status: Error`. An answer is one write of the daemon: complete once nothing more
   * came for 100 ms after it began.
   */
  command(line: string, timeoutMs = 10_000): Promise<string> {
    const run = async (): Promise<string> => {
      this.received = '';
      this.control.write(`${line}\n`);
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, 100);
          const onReceive = (): void => done();
          this.onReceive = onReceive;
          function done(): void {
            clearTimeout(t);
            resolve();
          }
        });
        this.onReceive = undefined;
        if (this.received !== '' && this.received === last) break;
        last = this.received;
        if (Date.now() > deadline) throw new Error(`linphone did not answer "${line}" in ${timeoutMs} ms (got ${JSON.stringify(this.received)})`);
        if (!this.child.running()) throw new Error(`linphone ${this.aor} (pid ${this.pid}) exited during "${line}": ${this.output}`);
      }
      const answer = this.received;
      const status = /^Status: (\w+)/.exec(answer);
      if (status === null) throw new Error(`linphone's answer to "${line}": ${JSON.stringify(answer)}`);
      if (status[1] !== 'Ok') throw new Error(`linphone "${line}" failed: ${answer.trim()}`);
      return answer.slice(status[0].length).trim();
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** The daemon's id of the account of the configuration (which registers when linphone starts). */
  private readonly registrationId = '1';

  /** The registration's state, e.g. LinphoneRegistrationOk / Progress / Failed. */
  async registrationState(): Promise<string> {
    const body = await this.command(`register-status ${this.registrationId}`);
    return /State: (\w+)/.exec(body)?.[1] ?? body;
  }

  /** Wait until the registration's state is `want` (default Ok); throws on another final state or after `timeoutMs`. */
  async registered(timeoutMs = 15_000, want = 'LinphoneRegistrationOk'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.registrationState();
      if (state === want) return;
      if (state === 'LinphoneRegistrationFailed' || (state === 'LinphoneRegistrationCleared' && want !== state)) throw new Error(`${this.aor}: registration ${state}\n${await this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`${this.aor}: registration still ${state} after ${timeoutMs} ms\n${await this.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * `unregister`, and wait for the 200 to its REGISTER with Expires: 0 (the daemon forgets the
   * registration at once, so its state cannot be asked: the log tells).
   */
  async unregister(timeoutMs = 15_000): Promise<void> {
    await this.command(`unregister ${this.registrationId}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = await this.messages();
      const cseqOf = (m: TracedMessage): string | undefined => m.headers.find(([n]) => n === 'cseq')?.[1];
      const removals = messages
        .filter((m) => m.startLine.startsWith('REGISTER ') && m.headers.some(([n, v]) => (n === 'expires' && v === '0') || (n === 'contact' && /;\s*expires=0\b/.test(v))))
        .map(cseqOf);
      if (messages.some((m) => /^SIP\/2\.0 200 /.test(m.startLine) && removals.includes(cseqOf(m)))) return;
      if (Date.now() > deadline) throw new Error(`${this.aor}: no 200 to an un-REGISTER after ${timeoutMs} ms\n${await this.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * RTP packets the last call's audio stream sent and received, from the statistics oRTP logs
   * when the stream ends (`call-stats` is not used: it made linphone-daemon 5.1 exit here).
   */
  async rtpStats(): Promise<{ sent: number; received: number } | undefined> {
    const log = await this.readLog();
    const sent = [...log.matchAll(/ortp-message-sent\s+(\d+) packets/g)].at(-1);
    const received = [...log.matchAll(/ortp-message-received\s+(\d+) packets/g)].at(-1);
    if (sent === undefined || received === undefined) return undefined;
    return { sent: Number(sent[1]), received: Number(received[1]) };
  }

  /** Pop every queued event into `events`. */
  async pollEvents(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const body = await this.command('pop-event');
      const size = Number(/Size: (\d+)/.exec(body)?.[1] ?? '0');
      const type = /Event-type: (\S+)/.exec(body)?.[1];
      if (type !== undefined) {
        const fields: Record<string, string> = {};
        for (const m of body.matchAll(/^([\w-]+): (.*)$/gm)) fields[m[1]!] = m[2]!;
        this.events.push({ type, event: fields.Event ?? '', ...(fields.Id === undefined ? {} : { id: fields.Id }), fields });
      }
      if (size <= 1) return;
    }
  }

  /** The first event (seen or to come) that `match` accepts, from index `from` on. */
  async waitEvent(match: (e: LinphoneEvent) => boolean, timeoutMs: number, from = 0): Promise<LinphoneEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.pollEvents();
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no such linphone event within ${timeoutMs} ms; events: ${this.events.map((e) => e.event).join(', ') || '(none)'}\n${await this.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A call-state-changed event named `state` (e.g. LinphoneCallStreamsRunning). */
  waitCallState(state: string, timeoutMs = 15_000, from = 0): Promise<LinphoneEvent> {
    return this.waitEvent((e) => e.type === 'call-state-changed' && e.event === state, timeoutMs, from);
  }

  /** The last lines of linphone's own log (its SIP messages are in it), for failure messages. */
  async logTail(chars = 12_000): Promise<string> {
    const log = await this.readLog();
    return `--- linphone ${this.aor} (pid ${this.pid}, SIP port ${this.sipPort}) events: ${this.events.map((e) => e.event).join(' ')}\n${log.length > chars ? `…${log.slice(-chars)}` : log}${this.output}`;
  }

  /** The SIP messages linphone logged (belle-sip prints each one it sends or receives), start lines and header fields. */
  async messages(): Promise<TracedMessage[]> {
    return parseSipTrace(await this.readLog());
  }

  /** Its log file (kept in memory once `stop` removed its directory). */
  private async readLog(): Promise<string> {
    if (this.log !== undefined) return this.log;
    return readFile(join(this.dir, 'linphone.log'), 'utf8').catch(() => '');
  }

  /** `quit`, then wait for it to exit; SIGKILL to its PID if it has not within 5 s. Removes its directory. */
  async stop(): Promise<void> {
    if (this.child.running()) {
      this.control.write('quit\n');
      const timer = setTimeout(() => this.child.kill(), 5000);
      await this.child.done.catch(() => undefined);
      clearTimeout(timer);
    }
    this.control.destroy();
    const r = await this.child.done.catch(() => undefined);
    if (r !== undefined) this.output = `${r.stdout}${r.stderr}`;
    this.log = await this.readLog();
    await rm(this.dir, { recursive: true, force: true });
    await rm(this.socketPath, { force: true });
  }
}
