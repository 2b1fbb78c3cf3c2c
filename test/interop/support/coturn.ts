// coturn (Debian's `coturn` 4.6) for the TURN suites: its server `turnserver` started on loopback
// with the caller's ports, and its clients `turnutils_stunclient`, `turnutils_uclient` and
// `turnutils_peer`, each bounded by a watchdog, their output read into numbers. The same client
// runs go against coturn and against Parley's TURN server, so that a difference shows.
//
// What the clients print (4.6.1), which the readers below rely on; every line starts with the
// seconds since the client started and ": : ":
// - turnutils_stunclient: `IPv4. UDP reflexive addr: 127.0.0.1:41971` (exit 0 on an answer);
// - turnutils_uclient (with -v): `IPv4. Received relay addr: 127.0.0.1:20896` per allocation,
//   `ERROR: Cannot complete Allocation` (exit 255) when an Allocate fails (wrong password, 486,
//   ...), and at the end
//     start_mclient: tot_send_msgs=10, tot_recv_msgs=10
//     start_mclient: tot_send_bytes ~ 1720, tot_recv_bytes ~ 1720
//     Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
//     Average round trip delay 0.000000 ms; min = 0 ms, max = 0 ms
//     Average jitter 1.500000 ms; min = 0 ms, max = 4 ms
//   It exits 0 even when every packet was lost: the verdict is in the numbers. It waits about
//   three seconds after the allocations before it sends (its own pacing), so a run takes seconds.
//   Round trips are whole milliseconds. `-S` alone is DTLS: TLS is `-t -S`. A refused
//   ChannelBind or CreatePermission prints `channel bind: error 403 (Forbidden IP)` and exits 255.
//   It does not deallocate at the end: its allocations hold their relay ports until they expire
//   (10 minutes), so a server that many runs use needs a wide relay range (about four ports a
//   run: uclient asks for EVEN-PORT with the next port reserved).
// Ports: a relay range over the peer's port makes uclient loop on `unknown allocate response`
// until its watchdog (seen when PortPool.block handed the same ports to two concurrent calls). `-m N` starts N
//   clients, each with its own allocations (two per client: uclient pairs an RTP and an RTCP
//   socket, `-c` leaves the RTCP one out of the traffic but not always out of the allocations).
//   Over TCP and TLS uclient handles one message per read: when echoes arrive together in one
//   read (seen: 976 bytes, five ChannelData messages, after an 85-ms stall of a loaded machine)
//   it prints `Wrong integrity in a message received from server` and counts them lost. Sending
//   every 20 ms instead of 5 keeps them apart but on a loaded machine; a loss over a stream
//   with that line in the output is uclient's, not the server's (`coalescedReads`).
// - turnutils_peer: a UDP echo server, silent; it is ready when it echoes a datagram.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { signalPid, spawnBounded } from './child.js';
import type { PortPool } from './ports.js';
import { tryConnect } from './try-connect.js';

export const COTURN_MISSING = 'coturn is not installed (Debian package coturn: apt-get install coturn)';

/** Are coturn's server and clients installed? */
export function coturnInstalled(): boolean {
  return ['turnserver', 'turnutils_uclient', 'turnutils_stunclient', 'turnutils_peer'].every((cmd) => {
    const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0;
  });
}

/** The `skip` option of a suite that needs coturn: skipped without it, except in CI (which installs it). */
export function skipWithoutCoturn(): string | false {
  if (coturnInstalled()) return false;
  return process.env.CI ? false : `${COTURN_MISSING}; skipped outside CI`;
}

export type CoturnAuth =
  | { readonly kind: 'long-term'; readonly users: readonly { readonly user: string; readonly password: string }[] }
  | { readonly kind: 'rest'; readonly secrets: readonly string[] }
  | { readonly kind: 'none' };

export interface CoturnOptions {
  /** The test file's pool: the listening ports and the relay port range come from it. */
  readonly pool: PortPool;
  readonly auth: CoturnAuth;
  /** Default example.org. */
  readonly realm?: string;
  /** Listen and relay on ::1 too (IPv6 allocations: uclient -x). */
  readonly ipv6?: boolean;
  /** A TLS listener too (a self-signed certificate for localhost and 127.0.0.1 is made). */
  readonly tls?: boolean;
  /** `--allow-loopback-peers` (default true: the peers of the suites are on loopback). */
  readonly allowLoopbackPeers?: boolean;
  /** Relay ports (`--min-port`..`--max-port`), default 40: about four per uclient client run, held 10 minutes. */
  readonly relayPorts?: number;
  /** More turnserver options (`--user-quota=1`, `--denied-peer-ip=...`). */
  readonly extra?: readonly string[];
  /** The watchdog: SIGKILL when still running after this long (default 10 minutes). */
  readonly lifetimeMs?: number;
}

/** A running turnserver on 127.0.0.1. */
export class Coturn {
  private constructor(
    readonly pid: number,
    readonly host: string,
    /** UDP and TCP. */
    readonly port: number,
    /** TLS, when asked for. */
    readonly tlsPort: number | undefined,
    readonly relayRange: { readonly min: number; readonly max: number },
    readonly realm: string,
    /** The TLS listener's self-signed certificate (PEM), to trust it in a client. */
    readonly certificatePem: string | undefined,
    private readonly dir: string,
    private readonly output: { text: string },
    private readonly exited: Promise<void>,
    private readonly watchdog: NodeJS.Timeout,
  ) {}

  /** Start turnserver and wait until it answers STUN on UDP and accepts TCP (and TLS) connections. */
  static async start(o: CoturnOptions): Promise<Coturn> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-coturn-'));
    const host = '127.0.0.1';
    const realm = o.realm ?? 'example.org';
    const port = await o.pool.block(2);
    const tlsPort = o.tls ? port + 1 : undefined;
    let certificatePem: string | undefined;
    const relayCount = o.relayPorts ?? 40;
    const min = await o.pool.block(relayCount);
    const args = [
      '-n', // no configuration file
      '--no-cli',
      '--log-file', 'stdout',
      '--simple-log',
      '--pidfile', join(dir, 'turnserver.pid'),
      '--userdb', join(dir, 'turndb'),
      '--listening-ip', host,
      '-V', // verbose: every request's outcome (`error 403: Forbidden IP`) in log()
      '--relay-ip', host,
      '--listening-port', String(port),
      '--min-port', String(min),
      '--max-port', String(min + relayCount - 1),
      '--realm', realm,
      '--fingerprint',
      '--no-dtls',
      '--no-multicast-peers',
      '--no-rfc5780',
    ];
    if (o.ipv6) args.push('--listening-ip', '::1', '--relay-ip', '::1');
    if (o.allowLoopbackPeers ?? true) args.push('--allow-loopback-peers');
    if (tlsPort === undefined) args.push('--no-tls');
    else {
      const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'rsa',
        keySize: 2048,
        algorithm: 'sha256',
        notBeforeDate: new Date(Date.now() - 60_000),
        notAfterDate: new Date(Date.now() + 86_400_000),
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: host }] }],
      });
      await writeFile(join(dir, 'cert.pem'), pems.cert);
      certificatePem = pems.cert;
      await writeFile(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
      args.push('--tls-listening-port', String(tlsPort), '--cert', join(dir, 'cert.pem'), '--pkey', join(dir, 'key.pem'));
    }
    switch (o.auth.kind) {
      case 'long-term':
        args.push('--lt-cred-mech');
        for (const u of o.auth.users) args.push('--user', `${u.user}:${u.password}`);
        break;
      case 'rest':
        args.push('--use-auth-secret');
        for (const s of o.auth.secrets) args.push('--static-auth-secret', s);
        break;
      case 'none':
        args.push('--no-auth');
        break;
    }
    args.push(...(o.extra ?? []));

    const child = spawn('turnserver', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`turnserver could not be started (${COTURN_MISSING}?)`);
    }
    const output = { text: '' };
    child.stdout.on('data', (d: Buffer) => (output.text += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output.text += d.toString('utf8')));
    const exited = new Promise<void>((res) => child.once('close', () => res()));
    const pid = child.pid;
    const watchdog = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) signalPid(pid, 'SIGKILL');
    }, o.lifetimeMs ?? 600_000);
    watchdog.unref();
    const server = new Coturn(pid, host, port, tlsPort, { min, max: min + relayCount - 1 }, realm, certificatePem, dir, output, exited, watchdog);

    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await server.stop();
        throw new Error(`turnserver exited at start:\n${output.text}`);
      }
      const ready = (await stunBinding(host, port, 200)) !== undefined && (await canConnect(host, port)) && (tlsPort === undefined || (await canConnect(host, tlsPort)));
      if (ready) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`turnserver did not listen on ${host}:${port} within 15 s:\n${output.text}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Everything turnserver has printed. */
  log(): string {
    return this.output.text;
  }

  /** SIGTERM to its PID, SIGKILL after 5 s; then its directory is removed. */
  async stop(): Promise<void> {
    clearTimeout(this.watchdog);
    if (signalPid(this.pid, 'SIGTERM')) {
      const killed = setTimeout(() => signalPid(this.pid, 'SIGKILL'), 5000);
      await this.exited;
      clearTimeout(killed);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** One STUN Binding request over UDP (from an ephemeral loopback port): the success response, or undefined after `waitMs`. */
export function stunBinding(host: string, port: number, waitMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const txid = randomBytes(12);
    const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), txid]);
    const done = (v: Buffer | undefined): void => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), waitMs);
    s.on('error', () => done(undefined));
    s.on('message', (m) => {
      // a Binding success response (0x0101) to our transaction
      if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(txid)) done(m);
    });
    s.bind(0, '127.0.0.1', () => s.send(request, port, host));
  });
}

async function canConnect(host: string, port: number): Promise<boolean> {
  const s = await tryConnect({ host, port });
  s?.destroy();
  return s !== undefined;
}

/** A running turnutils_peer (UDP echo) on 127.0.0.1. */
export interface TurnPeer {
  readonly host: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Start turnutils_peer on a port of the pool (on 127.0.0.1, and on ::1 too with `ipv6`) and wait
 * until it echoes. Killed after `lifetimeMs` (default 10 minutes) at the latest.
 */
export async function startTurnPeer(pool: PortPool, o: { readonly ipv6?: boolean; readonly lifetimeMs?: number } = {}): Promise<TurnPeer> {
  const host = '127.0.0.1';
  const port = await pool.block(1);
  const args = ['-p', String(port), '-L', host, ...(o.ipv6 ? ['-L', '::1'] : [])];
  const child = spawnBounded('turnutils_peer', args, { cwd: tmpdir(), timeoutMs: o.lifetimeMs ?? 600_000 });
  const peer: TurnPeer = {
    host,
    port,
    pid: child.pid,
    stop: async () => {
      child.kill();
      await child.done.catch(() => undefined);
    },
  };
  const deadline = Date.now() + 10_000;
  while (!(await echoes(host, port))) {
    if (!child.running() || Date.now() > deadline) {
      await peer.stop();
      throw new Error(`turnutils_peer did not echo on ${host}:${port}`);
    }
  }
  return peer;
}

function echoes(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const probe = randomBytes(8);
    const done = (v: boolean): void => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 200);
    s.on('error', () => done(false));
    s.on('message', (m) => {
      if (m.equals(probe)) done(true);
    });
    s.bind(0, '127.0.0.1', () => s.send(probe, port, host));
  });
}

export interface StunclientResult {
  readonly code: number | null;
  readonly output: string;
  /** The server-reflexive address it printed (`127.0.0.1:41971`), if any. */
  readonly reflexive: string | undefined;
  describe(): string;
}

/** One turnutils_stunclient run against host:port (UDP). */
export async function runStunclient(o: { readonly host: string; readonly port: number; readonly timeoutMs?: number }): Promise<StunclientResult> {
  const args = ['-p', String(o.port), o.host];
  const r = await spawnBounded('turnutils_stunclient', args, { cwd: tmpdir(), timeoutMs: o.timeoutMs ?? 10_000 }).done;
  const output = r.stdout + r.stderr;
  const reflexive = valueAfter(output, 'UDP reflexive addr: ');
  return { code: r.code, output, reflexive, describe: () => `turnutils_stunclient ${args.join(' ')} (exit ${r.code}):\n${output}` };
}

export interface UclientOptions {
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** Long-term credentials (`-u`, `-w`), or with `secret` the REST user (`-u`, `-W`). */
  readonly user?: string;
  readonly password?: string;
  /** REST API secret (`-W`): uclient makes the timestamp:user name and the password itself. */
  readonly secret?: string;
  /** The peer the relay sends to (`-e`, `-r`); without it, client to client (`-y`). */
  readonly peer?: { readonly host: string; readonly port: number };
  /** The peer address to name instead of `peer.host` (`-e`): another spelling of it, say. */
  readonly peerAddress?: string;
  /** Channels (default) or Send/Data indications (`-s`). */
  readonly channels?: boolean;
  /** Messages per client (`-n`, default 10), their size (`-l`, default 172), clients (`-m`, default 1). */
  readonly messages?: number;
  readonly length?: number;
  readonly clients?: number;
  /** Milliseconds between a client's messages (`-z`, default 5 over UDP, 20 over TCP and TLS: see the top). */
  readonly intervalMs?: number;
  /**
   * RFC 6062 TCP relaying (`-T`: TCP to the server, a TCP allocation, Connect/ConnectionBind,
   * client to client through two relays; `peer` and `channels` do not apply).
   */
  readonly tcpRelay?: boolean;
  /** An IPv6 relayed address (`-x`). */
  readonly ipv6Relay?: boolean;
  readonly extra?: readonly string[];
  /** The watchdog (default 30 s). */
  readonly timeoutMs?: number;
}

/** What a uclient run printed, as numbers. Undefined where it printed nothing of the kind. */
export interface UclientResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly args: readonly string[];
  /** Relayed addresses received (one line per allocation). */
  readonly relayed: readonly string[];
  /** `ERROR:` lines and `...: error NNN (reason)` lines. */
  readonly errors: readonly string[];
  readonly sent: number | undefined;
  readonly received: number | undefined;
  readonly sentBytes: number | undefined;
  readonly receivedBytes: number | undefined;
  readonly lost: number | undefined;
  readonly lostPercent: number | undefined;
  readonly sendDropped: number | undefined;
  readonly rttAvgMs: number | undefined;
  readonly rttMinMs: number | undefined;
  readonly rttMaxMs: number | undefined;
  readonly jitterAvgMs: number | undefined;
  /** Every packet came back and nothing was reported lost or dropped. */
  readonly allEchoed: boolean;
  /** uclient misread several stream messages that came in one read (see the top): its loss, not the server's. */
  readonly coalescedReads: boolean;
  describe(): string;
}

/** The command line of a uclient run (for the bench script and for messages). */
export function uclientArgs(o: UclientOptions): string[] {
  const args = ['-v', '-p', String(o.port), '-n', String(o.messages ?? 10), '-l', String(o.length ?? 172), '-m', String(o.clients ?? 1), '-z', String(o.intervalMs ?? (o.transport === 'udp' ? 5 : 20)), '-c'];
  if (o.transport !== 'udp') args.push('-t');
  if (o.transport === 'tls') args.push('-S');
  if (o.user !== undefined) args.push('-u', o.user);
  if (o.secret !== undefined) args.push('-W', o.secret);
  else if (o.password !== undefined) args.push('-w', o.password);
  if (o.tcpRelay) args.push('-T');
  else if (o.peer !== undefined) args.push('-e', o.peerAddress ?? o.peer.host, '-r', String(o.peer.port));
  else args.push('-y');
  if (o.channels === false && !o.tcpRelay) args.push('-s');
  if (o.ipv6Relay) args.push('-x');
  args.push(...(o.extra ?? []), o.host);
  return args;
}

/**
 * One bounded turnutils_uclient run; with `retryCoalesced`, a second one when the first lost
 * packets to uclient's own misreading of coalesced stream messages (see the top; a server that
 * sends bad integrity fails both).
 */
export async function runUclient(o: UclientOptions & { readonly retryCoalesced?: boolean }): Promise<UclientResult> {
  const args = uclientArgs(o);
  const once = async (): Promise<UclientResult> => {
    const r = await spawnBounded('turnutils_uclient', args, { cwd: tmpdir(), timeoutMs: o.timeoutMs ?? 30_000 }).done;
    return readUclient(r.stdout + r.stderr, r.code, r.signal, args);
  };
  const first = await once();
  return o.retryCoalesced && !first.allEchoed && first.coalescedReads ? once() : first;
}

/** uclient's output read into numbers (exported for its unit test on recorded output). */
export function readUclient(output: string, code: number | null, signal: NodeJS.Signals | null, args: readonly string[]): UclientResult {
  const lines = output.split('\n').map(stripPrefix);
  const relayed: string[] = [];
  const errors: string[] = [];
  let sent: number | undefined;
  let received: number | undefined;
  let sentBytes: number | undefined;
  let receivedBytes: number | undefined;
  let lost: number | undefined;
  let lostPercent: number | undefined;
  let sendDropped: number | undefined;
  let rtt: number[] = [];
  let jitterAvgMs: number | undefined;
  for (const line of lines) {
    const relay = valueAfter(line, 'Received relay addr: ');
    if (relay !== undefined) relayed.push(relay);
    // `ERROR: Cannot complete Allocation`, `error 486 (Allocation Quota Reached)`, `channel bind: error 403 (Forbidden IP)`
    if (line.startsWith('ERROR:') || line.startsWith('error ') || line.includes(': error ')) errors.push(line);
    // the totals: the start_mclient lines without "msz=" (those are progress reports)
    if (line.startsWith('start_mclient: tot_send_msgs=')) {
      sent = numberAfter(line, 'tot_send_msgs=');
      received = numberAfter(line, 'tot_recv_msgs=');
    }
    if (line.startsWith('start_mclient: tot_send_bytes')) {
      sentBytes = numberAfter(line, 'tot_send_bytes ~ ');
      receivedBytes = numberAfter(line, 'tot_recv_bytes ~ ');
    }
    if (line.startsWith('Total lost packets ')) {
      lost = numberAfter(line, 'Total lost packets ');
      lostPercent = numberAfter(line, '(');
      sendDropped = numberAfter(line, 'total send dropped ');
    }
    if (line.startsWith('Average round trip delay ')) {
      rtt = [numberAfter(line, 'delay '), numberAfter(line, 'min = '), numberAfter(line, 'max = ')].map((v) => v ?? Number.NaN);
    }
    if (line.startsWith('Average jitter ')) jitterAvgMs = numberAfter(line, 'jitter ');
  }
  const allEchoed = sent !== undefined && sent > 0 && received === sent && lost === 0 && sendDropped === 0 && errors.length === 0;
  return {
    code,
    signal,
    output,
    args,
    relayed,
    errors,
    sent,
    received,
    sentBytes,
    receivedBytes,
    lost,
    lostPercent,
    sendDropped,
    rttAvgMs: rtt[0],
    rttMinMs: rtt[1],
    rttMaxMs: rtt[2],
    jitterAvgMs,
    allEchoed,
    coalescedReads: output.includes('Wrong integrity in a message received from server'),
    describe: () =>
      `turnutils_uclient ${args.join(' ')} (exit ${code}${signal ? `, ${signal}` : ''}): sent ${sent}, received ${received}, lost ${lost}, ` +
      `dropped ${sendDropped}, rtt ${rtt[0]} ms\n${output.length > 6000 ? `...${output.slice(-6000)}` : output}`,
  };
}

/** `12: : text` → `text`. */
function stripPrefix(line: string): string {
  const at = line.indexOf(': : ');
  return at >= 0 && at < 12 ? line.slice(at + 4).trimEnd() : line.trimEnd();
}

/** The word after `label` in `text` (up to a space, comma or end of line). */
function valueAfter(text: string, label: string): string | undefined {
  const at = text.indexOf(label);
  if (at < 0) return undefined;
  let end = at + label.length;
  while (end < text.length && text[end] !== ' ' && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r') end++;
  return text.slice(at + label.length, end);
}

/** The decimal number after `label` in `line`. */
function numberAfter(line: string, label: string): number | undefined {
  const v = valueAfter(line, label);
  if (v === undefined) return undefined;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A TURN server under test as the client runs need it: coturn's (Coturn) or Parley's. */
export interface TurnTarget {
  readonly host: string;
  /** UDP and TCP. */
  readonly port: number;
  /** TLS, when it listens. */
  readonly tlsPort?: number | undefined;
}

export interface UclientScenario {
  readonly name: string;
  readonly options: UclientOptions & { readonly retryCoalesced?: boolean };
  /** Messages echoed when every one came back. */
  readonly echoed: number;
}

/**
 * The relay runs every TURN server must pass with long-term credentials and loopback peers
 * allowed: coturn in test/interop/turn-coturn.test.ts, Parley in its own suite. Each passes when
 * `allEchoed` and `received === echoed`.
 */
export function relayScenarios(
  target: TurnTarget,
  credentials: { readonly user: string; readonly password: string },
  peer: { readonly host: string; readonly port: number },
): UclientScenario[] {
  const base: UclientOptions = { host: target.host, port: target.port, transport: 'udp', ...credentials, peer: { host: peer.host, port: peer.port } };
  const list: UclientScenario[] = [
    { name: 'UDP, channels, to a peer', options: base, echoed: 10 },
    { name: 'TCP, channels, to a peer', options: { ...base, transport: 'tcp', retryCoalesced: true }, echoed: 10 },
  ];
  if (target.tlsPort !== undefined) {
    list.push({ name: 'TLS, channels, to a peer', options: { ...base, transport: 'tls', port: target.tlsPort, retryCoalesced: true }, echoed: 10 });
  }
  list.push(
    { name: 'UDP, Send and Data indications (no channels), to a peer', options: { ...base, channels: false }, echoed: 10 },
    { name: 'UDP, client to client (-y): two relays talk to each other', options: { ...base, peer: undefined, clients: 2 }, echoed: 20 },
    { name: 'RFC 6062 TCP relaying (-T): Connect, ConnectionBind, data both ways', options: { ...base, transport: 'tcp', tcpRelay: true, retryCoalesced: true }, echoed: 20 },
    { name: 'UDP, four clients, 1000-byte packets', options: { ...base, clients: 4, messages: 20, length: 1000 }, echoed: 80 },
  );
  return list;
}
