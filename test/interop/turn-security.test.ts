// The TURN server's defences, against a real Parley over the wire (issue 16, "Security"): the
// failed-auth limiter SIP and TURN share (a source that fails SIP digest gets no TURN answer, and
// one that fails TURN is refused on SIP REGISTER); stream connections per source and the message
// deadline (slowloris: many connections, a silent one, a trickling one); allocations per source;
// every denied peer spelling the issue names, on CreatePermission, ChannelBind and Send; and no
// unauthenticated answer larger than its request but the documented exceptions. The attacker is a
// raw client built from src/stun (and a raw SIP REGISTER), bound to its own loopback address
// (127.0.0.2 ...) so that each test is a source of its own, and coturn's turnutils_uclient for the
// CVE spellings (the commands turn-coturn.test.ts runs against coturn). Ports from slice 31.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { computeDigestResponse } from '../../src/sip/index.js';
import { parseStunMessage, readErrorCode, StunAttr, StunMessageBuilder, StunMethod, type StunMessage } from '../../src/stun/index.js';
import { runUclient, skipWithoutCoturn, startTurnPeer, type TurnPeer } from './support/coturn.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { ipv6Loopback } from './support/udp-probe.js';
import { digestParams } from './support/sip-trace.js';

const pool = portPool(import.meta.url);
const ALICE = { user: 'alice', password: 'alice-pw' };
const REST_SECRET = 'turn-security-secret';
const MAX_FAILURES = 3;

const IPV6 = await ipv6Loopback();

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);

function errorCode(m: StunMessage | undefined): number | undefined {
  if (m === undefined) return undefined;
  const a = m.get(StunAttr.ERROR_CODE);
  if (a === undefined) return m.class === 'success' ? 200 : undefined;
  const r = readErrorCode(a);
  return r.ok ? r.value.code : undefined;
}

/** A UDP client of one server from one local address: STUN transactions and raw datagrams. */
class UdpClient {
  private readonly answers = new Map<string, (m: { message: StunMessage; size: number }) => void>();
  readonly raw: Buffer[] = [];
  private constructor(
    private readonly socket: UdpSocket,
    private readonly host: string,
    private readonly port: number,
  ) {
    socket.on('message', (msg) => {
      this.raw.push(msg);
      const m = parseStunMessage(msg);
      if (!m.ok) return;
      const id = Buffer.from(m.value.transactionId).toString('hex');
      this.answers.get(id)?.({ message: m.value, size: msg.length });
      this.answers.delete(id);
    });
  }

  static async open(local: string, host: string, port: number): Promise<UdpClient> {
    const s = local.includes(':') ? createSocket({ type: 'udp6', ipv6Only: true }) : createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, local, () => r()));
    return new UdpClient(s, host, port);
  }

  /** Sends a datagram; resolves once it is out (a socket closed before would drop it). */
  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.send(bytes, this.port, this.host, () => resolve()));
  }

  /** Sends a request (its transaction ID is bytes 8-20) and waits up to `waitMs` for the answer. */
  transact(bytes: Uint8Array, waitMs = 2000): Promise<{ message: StunMessage; size: number } | undefined> {
    const id = Buffer.from(bytes.subarray(8, 20)).toString('hex');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.answers.delete(id);
        resolve(undefined);
      }, waitMs);
      this.answers.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      void this.send(bytes);
    });
  }

  async request(bytes: Uint8Array, waitMs?: number): Promise<StunMessage | undefined> {
    return (await this.transact(bytes, waitMs))?.message;
  }

  close(): void {
    this.socket.close();
  }
}

/** A TURN session of one client: the challenge's realm and nonce, then signed requests. */
class TurnSession {
  realm = '';
  nonce = '';
  constructor(
    readonly client: UdpClient,
    readonly user: string,
    readonly key: Uint8Array,
  ) {}

  /** The long-term key of `user` in `realm` (RFC 8489 §9.2.2: MD5 of user:realm:password). */
  static longTermKey(user: string, realm: string, password: string): Uint8Array {
    return createHash('md5').update(`${user}:${realm}:${password}`).digest();
  }

  /** An unauthenticated Allocate: the 401 challenge (realm, nonce), or undefined when none came. */
  async challenge(family: 4 | 6 = 4): Promise<StunMessage | undefined> {
    const m = await this.client.request(allocate(family).build());
    if (m !== undefined && (errorCode(m) === 401 || errorCode(m) === 438)) {
      this.realm = utf8(m.get(StunAttr.REALM)!.value);
      this.nonce = utf8(m.get(StunAttr.NONCE)!.value);
    }
    return m;
  }

  signed(b: StunMessageBuilder, key = this.key): Uint8Array {
    return b.addString(StunAttr.USERNAME, this.user).addString(StunAttr.REALM, this.realm).addString(StunAttr.NONCE, this.nonce).addMessageIntegrity(key).build();
  }

  /** A signed request; a 438 (stale nonce) is retried once with the new nonce. */
  async request(make: () => StunMessageBuilder, key = this.key): Promise<StunMessage | undefined> {
    let m = await this.client.request(this.signed(make(), key));
    if (errorCode(m) === 438) {
      this.nonce = utf8(m!.get(StunAttr.NONCE)!.value);
      m = await this.client.request(this.signed(make(), key));
    }
    return m;
  }

  /** Challenge, then an authenticated Allocate; the answer's code. */
  async allocate(family: 4 | 6 = 4): Promise<number | undefined> {
    const c = await this.challenge(family);
    if (errorCode(c) !== 401) return errorCode(c);
    return errorCode(await this.request(() => allocate(family)));
  }
}

function allocate(family: 4 | 6 = 4): StunMessageBuilder {
  const b = new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0));
  // RFC 8656 §18.11 REQUESTED-ADDRESS-FAMILY: 0x02 IPv6
  return family === 6 ? b.add(StunAttr.REQUESTED_ADDRESS_FAMILY, Uint8Array.of(2, 0, 0, 0)) : b;
}

/** A REST credential (coturn's use-auth-secret): username `expiry:user`, password base64(HMAC-SHA1(secret, username)). */
function restCredential(user: string): { user: string; password: string } {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:${user}`;
  return { user: username, password: createHmac('sha1', REST_SECRET).update(username).digest('base64') };
}

/** The family an address is written in. */
const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);

/** A raw SIP REGISTER client over UDP from one local address (the digest computed here). */
class SipRegistrar {
  private cseq = 1;
  private readonly callId = randomUUID();
  private constructor(
    private readonly socket: UdpSocket,
    private readonly host: string,
    private readonly port: number,
    private readonly local: string,
  ) {}

  static async open(local: string, host: string, port: number): Promise<SipRegistrar> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, local, () => r()));
    return new SipRegistrar(s, host, port, local);
  }

  private async send(authorization?: string): Promise<{ status: number; challenge?: string } | undefined> {
    const localPort = this.socket.address().port;
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const uri = `sip:${this.host}`;
    const text =
      `REGISTER ${uri} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${this.local}:${localPort};branch=${branch};rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:${ALICE.user}@${this.host}>;tag=${randomBytes(4).toString('hex')}\r\n` +
      `To: <sip:${ALICE.user}@${this.host}>\r\n` +
      `Call-ID: ${this.callId}\r\n` +
      `CSeq: ${this.cseq++} REGISTER\r\n` +
      `Contact: <sip:${ALICE.user}@${this.local}:${localPort}>\r\n` +
      `Expires: 60\r\n` +
      (authorization === undefined ? '' : `Authorization: ${authorization}\r\n`) +
      `Content-Length: 0\r\n\r\n`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.off('message', on);
        resolve(undefined);
      }, 2000);
      const on = (msg: Buffer): void => {
        const s = msg.toString('latin1');
        if (!s.includes(branch)) return;
        const status = Number(s.slice(8, 11));
        if (status < 200) return;
        clearTimeout(timer);
        this.socket.off('message', on);
        const line = s.split('\r\n').find((l) => l.toLowerCase().startsWith('www-authenticate:'));
        resolve({ status, ...(line === undefined ? {} : { challenge: line.slice(line.indexOf(':') + 1).trim() }) });
      };
      this.socket.on('message', on);
      this.socket.send(text, this.port, this.host);
    });
  }

  /** REGISTER, and, when challenged, again with a digest of `password`: the final status (undefined: no answer). */
  async register(password: string): Promise<number | undefined> {
    const first = await this.send();
    if (first?.status !== 401 || first.challenge === undefined) return first?.status;
    const p = digestParams(first.challenge);
    const realm = p.get('realm')!;
    const nonce = p.get('nonce')!;
    const uri = `sip:${this.host}`;
    const ha1 = createHash('md5').update(`${ALICE.user}:${realm}:${password}`).digest('hex');
    const qop = p.get('qop')?.split(',').some((q) => q.trim() === 'auth') ? 'auth' : undefined;
    const cnonce = randomBytes(8).toString('hex');
    const response = computeDigestResponse({ algorithm: 'MD5', ha1, method: 'REGISTER', digestUri: uri, nonce, ...(qop ? { qop, nc: '00000001', cnonce } : {}) });
    const authorization =
      `Digest username="${ALICE.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5` +
      (qop ? `, qop=auth, nc=00000001, cnonce="${cnonce}"` : '') +
      (p.has('opaque') ? `, opaque="${p.get('opaque')}"` : '');
    return (await this.send(authorization))?.status;
  }

  close(): void {
    this.socket.close();
  }
}

/** A Parley with SIP on UDP and TURN on UDP and TCP (and UDP on ::1 when the host has it). */
async function startParley(turn: Record<string, unknown>, auth: Record<string, unknown> = {}): Promise<{ parley: ParleyServer; sipPort: number; turnPort: number }> {
  const turnPort = await pool.block(1);
  const relayFirst = await pool.block(20);
  const parley = await ParleyServer.start({
    pool,
    transports: ['udp'],
    // one SIP worker thread: failures are reported to the main thread's limiter as in production
    workers: 1,
    subscribers: [ALICE],
    config: {
      auth,
      log: { statsInterval: 1 },
      turn: {
        listen: [
          { transport: 'udp', address: '127.0.0.1', port: turnPort },
          { transport: 'tcp', address: '127.0.0.1', port: turnPort },
          ...(IPV6 ? [{ transport: 'udp', address: '::1', port: turnPort }] : []),
        ],
        minPort: relayFirst,
        maxPort: relayFirst + 19,
        restSecrets: [REST_SECRET],
        ...turn,
      },
    },
  });
  return { parley, sipPort: parley.portFor('udp'), turnPort };
}

async function until(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !(await cond()); waited += 100) {
    if (waited > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await wait(100);
  }
}

describe('TURN and SIP share one failed-auth limiter (auth.failureLimit)', () => {
  let parley: ParleyServer | undefined;
  let sipPort = 0;
  let turnPort = 0;

  before(async () => {
    ({ parley, sipPort, turnPort } = await startParley({}, { failureLimit: { maxFailures: MAX_FAILURES, window: 60, blockTime: 300 } }));
  });
  after(() => stopCleanly(parley));

  it(`a source that fails SIP digest ${MAX_FAILURES} times gets no TURN answer at all (not even a challenge), with the right password too; another source still does`, async () => {
    const source = '127.0.0.2';
    const turnClient = await UdpClient.open(source, '127.0.0.1', turnPort);
    const sip = await SipRegistrar.open(source, '127.0.0.1', sipPort);
    try {
      const session = new TurnSession(turnClient, ALICE.user, new Uint8Array());
      // before: TURN answers this source (and the nonce is bound to it)
      assert.equal(errorCode(await session.challenge()), 401);
      const key = TurnSession.longTermKey(ALICE.user, session.realm, ALICE.password);
      for (let i = 0; i < MAX_FAILURES; i++) assert.notEqual(await sip.register('wrong-password'), 200, 'a wrong password is refused');
      // SIP refuses the source now
      await until(async () => (await sip.register(ALICE.password)) === 403, 'SIP answers the blocked source 403');
      // and TURN does not answer it: neither a challenge nor a correctly signed Allocate
      await until(async () => (await turnClient.request(allocate().build(), 1000)) === undefined, 'TURN drops the blocked source');
      assert.equal(await turnClient.request(session.signed(allocate(), key)), undefined, 'a correctly signed Allocate from a blocked source gets no answer');
      // another source is served
      const other = await UdpClient.open('127.0.0.1', '127.0.0.1', turnPort);
      try {
        const s = new TurnSession(other, ALICE.user, new Uint8Array());
        assert.equal(errorCode(await s.challenge()), 401);
        assert.equal(errorCode(await s.request(() => allocate(), TurnSession.longTermKey(ALICE.user, s.realm, ALICE.password))), 200);
      } finally {
        other.close();
      }
    } finally {
      turnClient.close();
      sip.close();
    }
  });

  it(`a source that fails TURN authentication ${MAX_FAILURES} times is answered 403 on SIP REGISTER, with the right password too`, async () => {
    const source = '127.0.0.3';
    const turnClient = await UdpClient.open(source, '127.0.0.1', turnPort);
    const sip = await SipRegistrar.open(source, '127.0.0.1', sipPort);
    try {
      const session = new TurnSession(turnClient, ALICE.user, new Uint8Array());
      assert.equal(errorCode(await session.challenge()), 401);
      const wrong = TurnSession.longTermKey(ALICE.user, session.realm, 'wrong-password');
      for (let i = 0; i < MAX_FAILURES; i++) {
        const m = await turnClient.request(session.signed(allocate(), wrong));
        assert.equal(errorCode(m), 401, `failure ${i + 1}: 401`);
        session.nonce = utf8(m!.get(StunAttr.NONCE)!.value);
      }
      await until(async () => (await sip.register(ALICE.password)) === 403, 'SIP answers the source TURN blocked 403');
      // TURN drops it too
      assert.equal(await turnClient.request(allocate().build(), 1000), undefined);
      // a source that failed nothing registers
      const good = await SipRegistrar.open('127.0.0.4', '127.0.0.1', sipPort);
      try {
        assert.equal(await good.register(ALICE.password), 200);
      } finally {
        good.close();
      }
    } finally {
      turnClient.close();
      sip.close();
    }
  });
});

/** The TURN thread's stats lines so far (every second here: log.statsInterval 1). */
const turnStats = (parley: ParleyServer): Array<Record<string, unknown>> => parley.logs.filter((l) => l.module === 'turn' && l.msg === 'stats');

/** Opens a TCP connection from `local` to the server; `closed` resolves when the server closes it. */
async function tcpOpen(local: string, port: number): Promise<{ socket: Socket; closed: Promise<void>; isClosed: () => boolean; data: Buffer[] }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: local });
  socket.on('error', () => {});
  const data: Buffer[] = [];
  socket.on('data', (d: Buffer) => data.push(d));
  let done = false;
  const closed = new Promise<void>((r) => socket.once('close', () => ((done = true), r())));
  await new Promise<void>((r, j) => {
    socket.once('connect', () => r());
    socket.once('close', () => j(new Error('closed before connecting')));
  });
  return { socket, closed, isClosed: () => done, data };
}

describe('TURN over TCP: connections per source and the message deadline (slowloris); allocations per source', () => {
  let parley: ParleyServer | undefined;
  let turnPort = 0;
  const PER_SOURCE = 4;

  before(async () => {
    ({ parley, turnPort } = await startParley({ connections: { perSource: PER_SOURCE, messageTimeout: 2 }, quotas: { perSource: 2 } }));
  });
  after(() => stopCleanly(parley));

  it(`holds at most ${PER_SOURCE} connections from one source (one more is closed at once), while another source still connects`, async () => {
    const held: Array<Awaited<ReturnType<typeof tcpOpen>>> = [];
    for (let i = 0; i < PER_SOURCE; i++) held.push(await tcpOpen('127.0.0.5', turnPort));
    // keep them from the message deadline: a Binding each, answered
    for (const c of held) c.socket.write(new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build());
    await until(() => held.every((c) => c.data.length > 0), 'each connection has its Binding answer');
    const extra = await tcpOpen('127.0.0.5', turnPort);
    await until(() => extra.isClosed(), 'the connection over the limit is closed');
    assert.equal(extra.data.length, 0);
    const other = await tcpOpen('127.0.0.6', turnPort);
    other.socket.write(new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build());
    await until(() => other.data.length > 0, 'another source is answered');
    assert.equal(other.isClosed(), false);
    assert.ok(held.every((c) => !c.isClosed()), 'the connections held stay open');
    // the TURN thread counts it
    await until(() => turnStats(parley!).some((l) => (l.streamsRefused as { perSource?: number } | undefined)?.perSource === 1), 'a stats line counting the connection refused');
    for (const c of [...held, other]) c.socket.destroy();
  });

  it('closes a connection that sends nothing, and one that trickles a Binding request a byte a second, before it is whole; a connection whose messages come whole stays', async () => {
    const silent = await tcpOpen('127.0.0.7', turnPort);
    const trickle = await tcpOpen('127.0.0.7', turnPort);
    const good = await tcpOpen('127.0.0.7', turnPort);
    const binding = new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build();
    // a byte a second: 20 seconds for the whole request, bounded by its length
    let sent = 0;
    const trickling = (async () => {
      while (sent < binding.length && !trickle.isClosed()) {
        trickle.socket.write(binding.subarray(sent, sent + 1));
        sent++;
        await wait(1000);
      }
    })();
    // the good one sends a message every half second, whole, while the others are judged
    const goodAnswers = (): number => parseStunFrames(Buffer.concat(good.data));
    let n = 0;
    while (!(silent.isClosed() && trickle.isClosed()) && n < 30) {
      good.socket.write(new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build());
      n++;
      await wait(500);
    }
    await until(() => silent.isClosed() && trickle.isClosed(), 'the silent and the trickling connections are closed');
    await trickling;
    assert.ok(sent < binding.length, `the trickling connection was closed before its message was whole (${sent} of ${binding.length} bytes)`);
    assert.equal(trickle.data.length, 0, 'the trickler got no answer');
    assert.equal(silent.data.length, 0);
    await until(() => goodAnswers() >= n, 'every Binding of the good connection is answered');
    await until(() => turnStats(parley!).some((l) => l.streamTimeouts === 2), 'a stats line counting 2 connections closed late');
    assert.equal(good.isClosed(), false);
    good.socket.destroy();
  });

  it('answers 486 to a third allocation from one source (turn.quotas.perSource 2), whatever its usernames, over UDP from other ports; another source allocates', async () => {
    const clients: UdpClient[] = [];
    try {
      const codes: Array<number | undefined> = [];
      for (const name of ['u1', 'u2', 'u3']) {
        const c = await UdpClient.open('127.0.0.8', '127.0.0.1', turnPort);
        clients.push(c);
        const cred = restCredential(name);
        const s = new TurnSession(c, cred.user, new Uint8Array());
        await s.challenge();
        codes.push(errorCode(await s.request(() => allocate(), TurnSession.longTermKey(cred.user, s.realm, cred.password))));
      }
      assert.deepEqual(codes, [200, 200, 486]);
      const c = await UdpClient.open('127.0.0.9', '127.0.0.1', turnPort);
      clients.push(c);
      const cred = restCredential('u4');
      const s = new TurnSession(c, cred.user, new Uint8Array());
      await s.challenge();
      assert.equal(errorCode(await s.request(() => allocate(), TurnSession.longTermKey(cred.user, s.realm, cred.password))), 200);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

/** The number of whole STUN messages at the start of a byte stream. */
function parseStunFrames(b: Buffer): number {
  let n = 0;
  for (let pos = 0; pos + 20 <= b.length; n++) pos += 20 + b.readUInt16BE(pos + 2);
  return n;
}

/** The peer spellings the issue names, each denied by default. */
const DENIED_V4 = ['0.0.0.0', '127.0.0.1', '127.1.2.3', '169.254.169.254', '10.0.0.1', '172.16.5.4', '192.168.1.1', '100.64.0.1', '224.0.0.1', '239.255.255.250', '255.255.255.255'];
const DENIED_V6 = [
  '::1',
  '::',
  '::ffff:127.0.0.1',
  '::ffff:0.0.0.0',
  '::127.0.0.1',
  '::ffff:169.254.169.254',
  '64:ff9b::7f00:1',
  '2002:7f00:1::1',
  'fe80::1',
  'fc00::1',
  'ff02::1',
];

describe('TURN peer policy on the wire: every denied spelling on CreatePermission, ChannelBind and Send', () => {
  let parley: ParleyServer | undefined;
  let turnPort = 0;
  let sink4: UdpSocket;
  let sink6: UdpSocket | undefined;
  const received: string[] = [];

  before(async () => {
    // the default policy, nothing allowed
    ({ parley, turnPort } = await startParley({}));
    // what a Send to a loopback spelling would reach, were it relayed
    const sinkPort = await pool.block(1);
    sink4 = createSocket('udp4');
    await new Promise<void>((r) => sink4.bind(sinkPort, '127.0.0.1', () => r()));
    sink4.on('message', (m) => received.push(m.toString()));
    if (IPV6) {
      sink6 = createSocket({ type: 'udp6', ipv6Only: true });
      await new Promise<void>((r) => sink6!.bind(sinkPort, '::1', () => r()));
      sink6.on('message', (m) => received.push(m.toString()));
    }
  });
  after(async () => {
    sink4.close();
    sink6?.close();
    await stopCleanly(parley);
  });

  const cases = [...DENIED_V4.map((a) => [a, 4] as const), ...(IPV6 ? DENIED_V6.map((a) => [a, 6] as const) : [])];
  it(`refuses ${cases.length} spellings (403 to CreatePermission and ChannelBind) and relays no Send to them${IPV6 ? '' : ' (no IPv6 loopback here: the IPv6 spellings are left out)'}`, async () => {
    const results: string[] = [];
    for (const family of [4, 6] as const) {
      const list = cases.filter(([, f]) => f === family);
      if (list.length === 0) continue;
      const c = await UdpClient.open(family === 4 ? '127.0.0.10' : '::1', family === 4 ? '127.0.0.1' : '::1', turnPort);
      try {
        const s = new TurnSession(c, ALICE.user, new Uint8Array());
        await s.challenge(family);
        const key = TurnSession.longTermKey(ALICE.user, s.realm, ALICE.password);
        assert.equal(errorCode(await s.request(() => allocate(family), key)), 200, `an IPv${family} allocation`);
        let channel = 0x4000;
        for (const [address] of list) {
          const peer = { family: familyOf(address), address, port: sink4.address().port };
          const perm = errorCode(await s.request(() => new StunMessageBuilder(StunMethod.CreatePermission, 'request', randomBytes(12)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer), key));
          const number = channel++;
          const bind = errorCode(
            await s.request(() => new StunMessageBuilder(StunMethod.ChannelBind, 'request', randomBytes(12)).add(StunAttr.CHANNEL_NUMBER, Uint8Array.of(number >> 8, number & 255, 0, 0)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer), key),
          );
          await c.send(new StunMessageBuilder(StunMethod.Send, 'indication', randomBytes(12)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer).add(StunAttr.DATA, new TextEncoder().encode(`to ${address}`)).build());
          results.push(`${address}: CreatePermission ${perm}, ChannelBind ${bind}`);
        }
      } finally {
        c.close();
      }
    }
    assert.deepEqual(
      results,
      cases.map(([a]) => `${a}: CreatePermission 403, ChannelBind 403`),
    );
    // nothing was relayed: the TURN thread's counters say so (every Send dropped, packets to peers
    // 0; they are logged every second) and the sink got nothing
    await until(() => turnStats(parley!).some((l) => Number(l.relayDropped) >= cases.length), `a TURN stats line counting ${cases.length} Sends dropped`);
    const stats = turnStats(parley!).find((l) => Number(l.relayDropped) >= cases.length)!;
    assert.equal(stats.packetsToPeers, 0, JSON.stringify(stats));
    assert.deepEqual(received, []);
  });
});

describe("TURN peer policy against coturn's turnutils_uclient: the spellings of CVE-2020-26262 and CVE-2026-27624", { skip: skipWithoutCoturn() }, () => {
  let parley: ParleyServer | undefined;
  let turnPort = 0;
  let peer: TurnPeer | undefined;

  before(async () => {
    ({ parley, turnPort } = await startParley({}));
    peer = await startTurnPeer(pool, { ipv6: IPV6 });
  });
  after(async () => {
    await peer?.stop();
    await stopCleanly(parley);
  });

  // the commands turn-coturn.test.ts runs against coturn 4.6.1, which lets ::ffff:127.0.0.1 and
  // ::127.0.0.1 through on an IPv6 allocation; Parley refuses every one with 403
  for (const spelling of ['127.0.0.1', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '::127.0.0.1']) {
    const v6 = spelling.includes(':');
    it(`${spelling}${v6 ? ' (IPv6 allocation, -x)' : ''}: refused with 403, nothing relayed`, { skip: v6 && !IPV6 ? 'no IPv6 loopback here' : false }, async () => {
      const r = await runUclient({ host: '127.0.0.1', port: turnPort, transport: 'udp', ...ALICE, peer: peer!, peerAddress: spelling, ...(v6 ? { ipv6Relay: true } : {}), messages: 3, timeoutMs: 10_000 });
      assert.ok(r.errors.some((e) => e.includes('error 403')), r.describe());
      assert.equal(r.received ?? 0, 0, r.describe());
    });
  }
});

describe("TURN peer policy on the wire: Parley's own listening address stays denied under a wider allow", () => {
  let parley: ParleyServer | undefined;
  let turnPort = 0;

  before(async () => {
    ({ parley, turnPort } = await startParley({ peers: { allow: ['127.0.0.0/8'] } }));
  });
  after(() => stopCleanly(parley));

  it('127.0.0.1 (where Parley listens) gets 403 on CreatePermission and ChannelBind and no Send, while 127.0.0.11 (allowed) is relayed to', async () => {
    const own = createSocket('udp4');
    const allowed = createSocket('udp4');
    const got: string[] = [];
    await new Promise<void>((r) => own.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => allowed.bind(0, '127.0.0.11', () => r()));
    own.on('message', (m) => got.push(`own ${m.toString()}`));
    allowed.on('message', (m) => got.push(`allowed ${m.toString()}`));
    const c = await UdpClient.open('127.0.0.12', '127.0.0.1', turnPort);
    try {
      const s = new TurnSession(c, ALICE.user, new Uint8Array());
      await s.challenge();
      const key = TurnSession.longTermKey(ALICE.user, s.realm, ALICE.password);
      assert.equal(errorCode(await s.request(() => allocate(), key)), 200);
      const codes: Record<string, Array<number | undefined>> = {};
      for (const [name, sock] of [['own', own], ['allowed', allowed]] as const) {
        const a = sock.address();
        const peer = { family: 4 as const, address: a.address, port: a.port };
        codes[name] = [
          errorCode(await s.request(() => new StunMessageBuilder(StunMethod.CreatePermission, 'request', randomBytes(12)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer), key)),
          errorCode(await s.request(() => new StunMessageBuilder(StunMethod.ChannelBind, 'request', randomBytes(12)).add(StunAttr.CHANNEL_NUMBER, Uint8Array.of(0x40, name === 'own' ? 1 : 2, 0, 0)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer), key)),
        ];
        await c.send(new StunMessageBuilder(StunMethod.Send, 'indication', randomBytes(12)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer).add(StunAttr.DATA, new TextEncoder().encode('hello')).build());
      }
      assert.deepEqual(codes, { own: [403, 403], allowed: [200, 200] });
      await until(() => got.length > 0, 'the allowed peer gets the Send');
      await wait(300);
      assert.deepEqual(got, ['allowed hello']);
    } finally {
      c.close();
      own.close();
      allowed.close();
    }
  });
});

describe('TURN: no unauthenticated answer larger than its request (but the 401/438 challenge and a Binding success)', () => {
  let parley: ParleyServer | undefined;
  let turnPort = 0;

  before(async () => {
    ({ parley, turnPort } = await startParley({}));
  });
  after(() => stopCleanly(parley));

  it('answers small unauthenticated requests of every method with at most their size, or not at all; the challenges are bounded', async () => {
    const c = await UdpClient.open('127.0.0.13', '127.0.0.1', turnPort);
    try {
      const tx = (): Uint8Array => randomBytes(12);
      // requests a spoofing attacker would send: as small as they come
      const requests: Array<readonly [string, Uint8Array]> = [
        ['Refresh with MESSAGE-INTEGRITY and no USERNAME (400)', new StunMessageBuilder(StunMethod.Refresh, 'request', tx()).addMessageIntegrity(new Uint8Array(16)).build()],
        ['CreatePermission with MESSAGE-INTEGRITY and no USERNAME', new StunMessageBuilder(StunMethod.CreatePermission, 'request', tx()).addMessageIntegrity(new Uint8Array(16)).build()],
        ['ChannelBind with MESSAGE-INTEGRITY and no REALM', new StunMessageBuilder(StunMethod.ChannelBind, 'request', tx()).addString(StunAttr.USERNAME, 'a').addMessageIntegrity(new Uint8Array(16)).build()],
        ['Allocate with an unknown comprehension-required attribute (420)', new StunMessageBuilder(StunMethod.Allocate, 'request', tx()).add(0x7ff0, new Uint8Array(0)).build()],
        ['Allocate with many unknown comprehension-required attributes', (() => {
          const b = new StunMessageBuilder(StunMethod.Allocate, 'request', tx());
          for (let t = 0x7f00; t < 0x7f10; t++) b.add(t, new Uint8Array(0));
          return b.build();
        })()],
        ['an unknown method', new StunMessageBuilder(0x0fff, 'request', tx()).build()],
        ['a signed Allocate with a made-up nonce (438)', new StunMessageBuilder(StunMethod.Allocate, 'request', tx()).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).addString(StunAttr.USERNAME, 'a').addString(StunAttr.REALM, 'r').addString(StunAttr.NONCE, 'n').addMessageIntegrity(new Uint8Array(16)).build()],
        ['an Allocate with no credentials (401)', allocate().build()],
      ];
      const report: string[] = [];
      for (const [name, bytes] of requests) {
        const a = await c.transact(bytes, 1000);
        const code = errorCode(a?.message);
        const challenge = code === 401 || code === 438;
        // a challenge: REALM and NONCE (at most 20 + 8 + 16 + 4 + realm + 4 + nonce), never SOFTWARE nor MESSAGE-INTEGRITY
        if (challenge) {
          assert.equal(a!.message.get(StunAttr.SOFTWARE), undefined, name);
          assert.equal(a!.message.get(StunAttr.MESSAGE_INTEGRITY), undefined, name);
          assert.ok(a!.size <= 160, `${name}: a challenge of ${a!.size} bytes`);
        }
        report.push(`${name}: ${a === undefined ? 'no answer' : `${a.size} bytes for ${bytes.length}${challenge ? ' (challenge)' : a.size <= bytes.length ? '' : ' LARGER'}`}`);
      }
      assert.ok(!report.some((r) => r.endsWith('LARGER')), report.join('\n'));
      // a datagram that is not STUN gets nothing
      const before = c.raw.length;
      await c.send(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
      await c.send(Uint8Array.of(0x00, 0x01, 0x00, 0x00));
      await wait(300);
      assert.equal(c.raw.length, before);
    } finally {
      c.close();
    }
  });
});
