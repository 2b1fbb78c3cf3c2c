// Debian's baresip (1.0, on libre 1.1) as a real phone of the interop suites: headless (no audio
// device: a sine tone from the `ausine` source, no player module at all, so received audio is
// decoded and dropped), with a configuration directory of its own, driven through its `ctrl_tcp`
// module (netstring-framed JSON commands: dial, accept, hangup, audio_debug, reginfo, quit) whose
// events (REGISTER_OK, CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED…) it reads. Every process
// is bounded twice: baresip's own `-t` limit, and a watchdog that SIGKILLs its PID.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tryConnect } from './try-connect.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBounded, type BoundedChild } from './child.js';
import type { ParleyTransport } from './parley.js';
import type { PortPool } from './ports.js';
import type { Credentials } from './subscribers.js';
import { parseSipTrace, type TracedMessage } from './client-trace.js';

export const BARESIP_MISSING = 'baresip is not installed (Debian packages baresip / baresip-core: apt-get install baresip)';
const MODULES = '/usr/lib/baresip/modules';

/** Is Debian's baresip (with its modules) installed? */
export function baresipInstalled(): boolean {
  if (!existsSync(join(MODULES, 'ctrl_tcp.so'))) return false;
  return spawnSync('baresip', ['-h'], { encoding: 'utf8', timeout: 5000 }).error === undefined;
}

/** The `skip` option of a suite that needs baresip: skipped without it, except in CI (which installs it). */
export function skipWithoutBaresip(): string | false {
  if (baresipInstalled()) return false;
  return process.env.CI ? false : `${BARESIP_MISSING}; skipped outside CI`;
}

/** One event baresip reported (ctrl_tcp): `type` is e.g. REGISTER_OK, CALL_INCOMING, CALL_CLOSED. */
export interface BaresipEvent {
  readonly type: string;
  readonly class?: string;
  readonly param?: string;
  readonly peer?: string;
  readonly id?: string;
  readonly [key: string]: unknown;
}

export interface BaresipOptions {
  /** The test file's pool: baresip's SIP, control and RTP ports come from it. */
  readonly pool: PortPool;
  readonly account: Credentials & { readonly domain?: string };
  /** Where its registrar and outbound proxy (Parley) is, and over which transport. */
  readonly registrar: { readonly host: string; readonly port: number; readonly transport: ParleyTransport };
  /** PEM file of CAs for SIP over TLS (`sip_cafile`); baresip 1.0 does not verify the server with it (see the suite). */
  readonly cafile?: string;
  /**
   * What it sends: a WAV file (the `aufile` module; 16-bit PCM, e.g. from writeToneWav) instead
   * of the default 440 Hz `ausine` tone.
   */
  readonly audioFile?: string;
  /**
   * Record what it sends and what it decodes into this folder (the `sndfile` module:
   * dump-<time>-<peer>-enc.wav and -dec.wav per call), for measuring received audio.
   */
  readonly recordDir?: string;
  /**
   * Media encryption of the account (`mediaenc`, the `srtp` module): `srtp-mand` offers RTP/SAVP
   * with SDES keys (RFC 4568) and takes nothing else; `srtp` offers RTP/AVP with a=crypto too.
   */
  readonly mediaenc?: 'srtp' | 'srtp-mand';
  /** baresip's own bound (`-t`), seconds; the watchdog kills it 10 s later. Default 120. */
  readonly lifetimeSecs?: number;
}

/** A SIP message baresip printed with `-s` (its SIP trace), start line and header fields. */
export type { TracedMessage } from './client-trace.js';

/** RTP packets a call sent and received (`audio_debug`). */
export interface RtpCounts {
  readonly tx: number;
  readonly rx: number;
}

/**
 * Ports of one baresip: SIP (UDP and TCP) at `base`, SIP over TLS at base + 1 (baresip 1.0 puts
 * TLS on the next port), the control socket at base + 2, RTP/RTCP in base + 3 … base + 9.
 */
const BLOCK = 10;

export class Baresip {
  /** Every event it reported, in order. */
  readonly events: BaresipEvent[] = [];
  private output = '';
  private buffer = Buffer.alloc(0);
  private token = 0;
  private readonly pending = new Map<string, { resolve: (r: { ok: boolean; data: string }) => void }>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly options: BaresipOptions,
    /** baresip's SIP port (UDP/TCP; TLS is the next). */
    readonly sipPort: number,
    private readonly dir: string,
    private readonly child: BoundedChild,
    private readonly control: Socket,
  ) {
    control.on('data', (d: Buffer) => this.onData(d));
  }

  /** The account's AOR, `sip:user@domain`. */
  get aor(): string {
    return `sip:${this.options.account.user}@${this.options.account.domain ?? '127.0.0.1'}`;
  }

  /** PID of the baresip process. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Start baresip with a fresh configuration directory; resolves once its control socket answers. */
  static async start(o: BaresipOptions): Promise<Baresip> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-baresip-'));
    const base = await o.pool.block(BLOCK);
    const { user, password, domain = '127.0.0.1' } = o.account;
    const { host, port, transport } = o.registrar;
    // manual answer (the test accepts), registration refreshed every 600 s, Parley as the
    // registrar (the AOR's domain) and as the outbound proxy every request goes to
    const account = `<sip:${user}@${domain};transport=${transport}>;auth_pass=${password};outbound="sip:${host}:${port};transport=${transport}";regint=600;answermode=manual${o.mediaenc === undefined ? '' : `;mediaenc=${o.mediaenc}`}`;
    const config = [
      'poll_method\t\tepoll',
      `sip_listen\t\t127.0.0.1:${base}`,
      ...(o.cafile === undefined ? [] : [`sip_cafile\t\t${o.cafile}`]),
      // loopback only: the address baresip puts in its SDP and binds RTP to
      'net_interface\t\t127.0.0.1',
      'call_local_timeout\t60',
      'call_max_calls\t\t4',
      // ausine makes 48 kHz only: baresip resamples it for the codec (PCMU, 8 kHz)
      ...(o.audioFile === undefined
        ? ['audio_source\t\tausine,440', 'ausrc_srate\t\t48000', 'ausrc_channels\t\t2']
        : [`audio_source\t\taufile,${o.audioFile}`]),
      ...(o.recordDir === undefined ? [] : [`snd_path\t\t${o.recordDir}`]),
      `rtp_ports\t\t${base + 3}-${base + BLOCK - 1}`,
      'rtp_timeout\t\t0',
      `module_path\t\t${MODULES}`,
      'module\t\t\tg711.so',
      ...(o.mediaenc === undefined ? [] : ['module\t\t\tsrtp.so']),
      o.audioFile === undefined ? 'module\t\t\tausine.so' : 'module\t\t\taufile.so',
      ...(o.recordDir === undefined ? [] : ['module\t\t\tsndfile.so']),
      'module_app\t\taccount.so',
      'module_app\t\tmenu.so',
      'module_app\t\tctrl_tcp.so',
      `ctrl_tcp_listen\t\t127.0.0.1:${base + 2}`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'config'), config);
    await writeFile(join(dir, 'accounts'), `${account}\n`);
    await writeFile(join(dir, 'contacts'), '');
    const lifetime = o.lifetimeSecs ?? 120;
    // -s: every SIP message sent and received on stdout (`messages()`)
    const child = spawnBounded('baresip', ['-f', dir, '-t', String(lifetime), '-s'], { cwd: dir, timeoutMs: (lifetime + 10) * 1000 });
    let control: Socket | undefined;
    const deadline = Date.now() + 10_000;
    while (control === undefined) {
      if (!child.running()) {
        const r = await child.done;
        await rm(dir, { recursive: true, force: true });
        throw new Error(`baresip exited at start (${r.code ?? r.signal}):\n${r.stdout}${r.stderr}`);
      }
      control = await tryConnect({ host: '127.0.0.1', port: base + 2 });
      if (control === undefined) {
        if (Date.now() > deadline) {
          child.kill();
          const r = await child.done;
          await rm(dir, { recursive: true, force: true });
          throw new Error(`baresip's control socket 127.0.0.1:${base + 2} did not open in 10 s:\n${r.stdout}${r.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const b = new Baresip(o, base, dir, child, control);
    void child.done.then((r) => {
      b.output = `${r.stdout}${r.stderr}`;
      b.wake();
    });
    return b;
  }

  /** Run a command (a long command of baresip's menu) and return what it printed. Fails when baresip says it failed. */
  async command(name: string, params?: string, timeoutMs = 10_000): Promise<string> {
    const token = String(++this.token);
    const message = JSON.stringify({ command: name, ...(params === undefined ? {} : { params }), token });
    const reply = new Promise<{ ok: boolean; data: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip did not answer "${name}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
    this.control.write(`${Buffer.byteLength(message)}:${message},`);
    const r = await reply;
    if (!r.ok) throw new Error(`baresip "${name}${params === undefined ? '' : ' ' + params}" failed: ${r.data}`);
    return r.data;
  }

  /** The first event (already received or to come) that `match` accepts, from index `from` on. */
  async waitEvent(match: (e: BaresipEvent) => boolean, timeoutMs: number, from = 0): Promise<BaresipEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0 || !this.child.running()) {
        throw new Error(`no such baresip event within ${timeoutMs} ms; events: ${this.events.map((e) => `${e.type}${e.param ? `(${e.param})` : ''}`).join(', ') || '(none)'}\n${this.describe()}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 1000));
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Wait until the account is registered (REGISTER_OK, or `reginfo` saying OK, as the first one may precede the control connection). */
  async registered(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fail = this.events.find((e) => e.type === 'REGISTER_FAIL');
      if (fail !== undefined) throw new Error(`${this.aor} could not register: ${fail.param ?? ''}\n${this.describe()}`);
      if (this.events.some((e) => e.type === 'REGISTER_OK')) return;
      const info = plain(await this.command('reginfo'));
      if (/\bOK\b/.test(info) && !/zombie|ERR/i.test(info)) return;
      if (Date.now() > deadline) throw new Error(`${this.aor} not registered after ${timeoutMs} ms: ${info}\n${this.describe()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * RTP packet counts of the current call's audio stream (`audio_debug`: "TX: packets=N" of the
   * RTP session, and "rcvd=N" of the peer's source; `callstat`'s answer is cut short over ctrl_tcp).
   */
  async rtpCounts(): Promise<RtpCounts> {
    const stat = plain(await this.command('audio_debug'));
    const tx = /TX: packets=(\d+)/.exec(stat);
    const rx = [...stat.matchAll(/\brcvd=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    if (tx === null) throw new Error(`no packet counts in audio_debug:\n${stat}`);
    return { tx: Number(tx[1]), rx };
  }

  /** Poll `audio_debug` until the current call sent and received at least `packets` RTP packets each way (bounded). */
  async rtpFlowing(packets: number, timeoutMs = 15_000): Promise<RtpCounts> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.rtpCounts();
      if (c.tx >= packets && c.rx >= packets) return c;
      if (Date.now() > deadline) throw new Error(`RTP of ${this.aor} after ${timeoutMs} ms: sent ${c.tx}, received ${c.rx} (wanted ${packets} each way)\n${this.describe()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * The SIP messages of its trace (`-s`), in order: complete once it has exited (`stop`). A
   * message starts at a line `METHOD uri SIP/2.0` or `SIP/2.0 CODE reason` and ends at a blank line.
   */
  messages(): TracedMessage[] {
    return parseSipTrace(plain(this.output));
  }

  /** Its output so far (complete once it has exited) and its events, for failure messages. */
  describe(): string {
    const output = this.output.length > 12_000 ? `…${this.output.slice(-12_000)}` : this.output;
    return `--- baresip ${this.aor} (pid ${this.pid}, SIP port ${this.sipPort}) events: ${this.events.map((e) => e.type).join(' ')}\n${output}`;
  }

  /** `quit`, then wait for it to exit; SIGKILL to its PID if it has not within 5 s. Removes its directory. */
  async stop(): Promise<string> {
    if (this.child.running()) {
      await this.command('quit', undefined, 3000).catch(() => undefined);
      const timer = setTimeout(() => this.child.kill(), 5000);
      await this.child.done.catch(() => undefined);
      clearTimeout(timer);
    }
    this.control.destroy();
    const r = await this.child.done.catch(() => undefined);
    if (r !== undefined) this.output = `${r.stdout}${r.stderr}`;
    await rm(this.dir, { recursive: true, force: true });
    return this.output;
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** Netstrings `LEN:JSON,` from the control socket. */
  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buffer.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(len) || this.buffer.length < colon + 1 + len + 1) return;
      const json = this.buffer.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.buffer = this.buffer.subarray(colon + 1 + len + 1);
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(json) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (m.response === true && typeof m.token === 'string') {
        this.pending.get(m.token)?.resolve({ ok: m.ok === true, data: typeof m.data === 'string' ? m.data : '' });
        this.pending.delete(m.token);
      } else if (m.event === true || m.event === 'true') {
        this.events.push(m as unknown as BaresipEvent);
        this.wake();
      }
    }
  }
}

/** Text without the ANSI colour codes baresip puts in its output. */
function plain(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
