// The TURN server's decisions (RFC 8656, RFC 8489 §9.2): requests built with src/stun as a client
// would, answers read back; relay sockets and the peer are real UDP sockets on loopback, the
// client side is the listener's send (recorded), time is a FakeClock.
import type { TurnAllocationEvent } from '../lib/events.js';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../../test/support/fake-clock.js';
import {
  parseStunMessage,
  readAddressErrorCode,
  readErrorCode,
  readXorAddress,
  StunAttr,
  StunMessageBuilder,
  StunMethod,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
  type StunMessage,
  type TransportAddress,
} from '../stun/index.js';
import { nonceCookie, nonceFeatures, PasswordAlgorithm, passwordAlgorithmsValue, readPasswordAlgorithms, userHash } from '../stun/credentials.js';
import type { TurnListener } from './five-tuple.js';
import { NonceIssuer } from './nonce.js';
import { PeerPolicy } from './peer-policy.js';
import { RelayPorts } from './relay-ports.js';
import { longTermKey, RestSecrets } from './rest-credentials.js';
import type { TurnCredentials } from './turn-credentials.js';
import { TurnServer, type TurnServerOptions } from './turn-server.js';

const REALM = 'example.test';
const PASSWORDS: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw' };
const key = (user: string, password = PASSWORDS[user]!, algorithm: 'md5' | 'sha256' = 'md5'): Uint8Array => createHash(algorithm).update(`${user}:${REALM}:${password}`).digest();

const credentials: TurnCredentials = {
  async keys(username, _realm, algorithm) {
    return PASSWORDS[username] === undefined ? undefined : { keys: [key(username, undefined, algorithm)], user: username };
  },
  async usernameOfHash(hash) {
    return Object.keys(PASSWORDS).find((u) => Buffer.from(userHash(u, REALM)).equals(hash));
  },
};

/** How a request is signed: RFC 5389 (MD5 key, MESSAGE-INTEGRITY) unless told otherwise. */
interface Signing {
  readonly password?: string;
  readonly user?: string;
  readonly txid?: Uint8Array;
  /** The key's algorithm; sha256 adds PASSWORD-ALGORITHM SHA-256 and the offered list. */
  readonly algorithm?: 'md5' | 'sha256';
  /** PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS as sent (null: left out), instead of the above. */
  readonly one?: Uint8Array | null;
  readonly list?: Uint8Array | null;
  /** MESSAGE-INTEGRITY-SHA256 instead of MESSAGE-INTEGRITY (default: with the SHA-256 key). */
  readonly integrity?: 'sha1' | 'sha256';
  /** USERHASH instead of USERNAME. */
  readonly userhash?: boolean;
}

const OFFERED = passwordAlgorithmsValue([PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]);

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A client of the server: its datagrams go in through receive(), the answers come back here. */
class Client {
  readonly got: Uint8Array[] = [];
  nonce: string | undefined;
  constructor(
    readonly server: TurnServer,
    readonly listener: TurnListener,
    readonly address = '127.0.0.1',
    readonly port = 40000 + Math.floor(Math.random() * 20000),
    readonly user = 'alice',
    readonly password = PASSWORDS[user] ?? 'x',
  ) {}

  send(bytes: Uint8Array): void {
    this.server.receive(this.listener, bytes, this.address, this.port);
  }

  /** Send, and wait for the answer with this transaction ID (undefined: none came). */
  async transact(bytes: Uint8Array): Promise<StunMessage | undefined> {
    const txid = Buffer.from(bytes.subarray(8, 20)).toString('hex');
    const before = this.got.length;
    this.send(bytes);
    for (let i = 0; i < 100; i++) {
      for (const b of this.got.slice(before)) {
        const m = parseStunMessage(b);
        if (m.ok && Buffer.from(m.value.transactionId).toString('hex') === txid) return m.value;
      }
      await wait(5);
    }
    return undefined;
  }

  /** A request signed with this client's credentials (and its last nonce). */
  signed(method: number, add: (b: StunMessageBuilder) => void = () => {}, o: Signing = {}): Uint8Array {
    const b = new StunMessageBuilder(method, 'request', o.txid ?? randomBytes(12));
    add(b);
    const user = o.user ?? this.user;
    if (o.userhash === true) b.add(StunAttr.USERHASH, userHash(user, REALM));
    else b.addString(StunAttr.USERNAME, user);
    b.addString(StunAttr.REALM, REALM).addString(StunAttr.NONCE, this.nonce ?? 'none');
    const algorithm = o.algorithm ?? 'md5';
    const one = o.one !== undefined ? o.one : algorithm === 'sha256' ? passwordAlgorithmsValue([PasswordAlgorithm.SHA256]) : null;
    const list = o.list !== undefined ? o.list : algorithm === 'sha256' ? OFFERED : null;
    if (one !== null) b.add(StunAttr.PASSWORD_ALGORITHM, one);
    if (list !== null) b.add(StunAttr.PASSWORD_ALGORITHMS, list);
    const k = key(user, o.password ?? this.password, algorithm);
    return (o.integrity ?? (algorithm === 'sha256' ? 'sha256' : 'sha1')) === 'sha256' ? b.addMessageIntegritySha256(k).build() : b.addMessageIntegrity(k).build();
  }

  /** Allocate as a client does: unauthenticated first, then with the nonce of the 401. */
  async allocate(add: (b: StunMessageBuilder) => void = udp, signing: Signing = {}): Promise<StunMessage> {
    const first = new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12));
    add(first);
    const challenge = await this.transact(first.build());
    assert.equal(code(challenge), 401);
    this.nonce = text(challenge!, StunAttr.NONCE);
    const answer = await this.transact(this.signed(StunMethod.Allocate, add, signing));
    assert.ok(answer !== undefined, 'no answer to the authenticated Allocate');
    return answer;
  }
}

function udp(b: StunMessageBuilder): void {
  b.add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0));
}

function code(m: StunMessage | undefined): number | undefined {
  const a = m?.get(StunAttr.ERROR_CODE);
  if (m === undefined) return undefined;
  if (a === undefined) return m.class === 'success' ? 200 : undefined;
  const r = readErrorCode(a);
  return r.ok ? r.value.code : undefined;
}

function text(m: StunMessage, type: number): string {
  return new TextDecoder().decode(m.get(type)!.value);
}

function xor(m: StunMessage, type: number): TransportAddress {
  const r = readXorAddress(m.get(type)!, m.transactionId);
  assert.ok(r.ok);
  return r.value;
}

function peerAttr(address: string, port: number) {
  return (b: StunMessageBuilder): void => {
    b.addXorAddress(StunAttr.XOR_PEER_ADDRESS, { family: address.includes(':') ? 6 : 4, address, port });
  };
}

function channel(n: number) {
  return (b: StunMessageBuilder): void => {
    b.add(StunAttr.CHANNEL_NUMBER, Uint8Array.of(n >> 8, n & 0xff, 0, 0));
  };
}

function channelData(n: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  out[0] = n >> 8;
  out[1] = n & 0xff;
  out[2] = data.length >> 8;
  out[3] = data.length & 0xff;
  out.set(data, 4);
  return out;
}

describe('TurnServer', () => {
  let clock: FakeClock;
  let wall: number;
  let server: TurnServer;
  let listener: TurnListener;
  let sent: Array<{ bytes: Uint8Array; port: number; address: string }>;
  let clients: Map<string, Client>;
  let peer: Socket;
  let peerPort: number;
  let peerGot: Array<{ data: Buffer; port: number }>;
  let failures: string[];

  const start = (o: Partial<TurnServerOptions> = {}): void => {
    server?.close();
    server = new TurnServer({
      realm: REALM,
      credentials,
      peers: new PeerPolicy({ allow: ['127.0.0.1/32', '::1/128'] }),
      relays: new RelayPorts({ addresses: { 4: '127.0.0.1', 6: '::1' }, minPort: 0, maxPort: 0 }),
      lifetime: { default: 600, max: 3600 },
      nonces: new NonceIssuer(randomBytes(32), 600_000, () => wall),
      quotas: { perUser: 0, total: 0 },
      bandwidth: 0,
      limiter: { isBlocked: () => false, recordFailure: (a) => failures.push(a) },
      clock,
      ...o,
    });
  };
  const client = (user = 'alice', password?: string): Client => {
    const c = new Client(server, listener, '127.0.0.1', undefined, user, password);
    clients.set(`${c.address}:${c.port}`, c);
    return c;
  };

  beforeEach(async () => {
    clock = new FakeClock();
    wall = Date.now();
    sent = [];
    clients = new Map();
    failures = [];
    listener = {
      id: 0,
      transport: 'udp',
      address: '127.0.0.1',
      port: 3478,
      send: (data, port, address) => {
        const bytes = Array.isArray(data) ? Buffer.concat(data as Uint8Array[]) : new Uint8Array(data as Uint8Array);
        sent.push({ bytes, port, address });
        clients.get(`${address}:${port}`)?.got.push(bytes);
      },
    };
    peerGot = [];
    peer = createSocket('udp4');
    peer.on('message', (data, rinfo) => peerGot.push({ data, port: rinfo.port }));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    peerPort = peer.address().port;
    start();
  });

  afterEach(() => {
    server.close();
    peer.close();
  });

  it('answers a Binding request with the source in XOR-MAPPED-ADDRESS (no credentials)', async () => {
    const c = client();
    const m = await c.transact(new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build());
    assert.equal(code(m), 200);
    assert.deepEqual(xor(m!, StunAttr.XOR_MAPPED_ADDRESS), { family: 4, address: '127.0.0.1', port: c.port });
  });

  it('challenges an Allocate without credentials: 401 with REALM and NONCE, no MESSAGE-INTEGRITY', async () => {
    const c = client();
    const m = await c.transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).build());
    assert.equal(code(m), 401);
    assert.equal(text(m!, StunAttr.REALM), REALM);
    assert.ok(text(m!, StunAttr.NONCE).length > 0);
    assert.equal(m!.get(StunAttr.MESSAGE_INTEGRITY), undefined);
  });

  it('answers a wrong password and an unknown user alike: 401 with a new nonce, each counted by the failure limiter', async () => {
    const wrong = client('alice', 'not-her-password');
    const nobody = client('mallory', 'whatever');
    const a = await wrong.allocate();
    const b = await nobody.allocate();
    assert.equal(code(a), 401);
    assert.equal(code(b), 401);
    assert.deepEqual(a.attributes.map((x) => x.type), b.attributes.map((x) => x.type));
    assert.equal(text(a, StunAttr.REALM), text(b, StunAttr.REALM));
    assert.deepEqual(failures, ['127.0.0.1', '127.0.0.1']);
  });

  it('answers an expired nonce with 438 Stale Nonce and a fresh one, then accepts the retry', async () => {
    const c = client();
    const first = await c.transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).build());
    c.nonce = text(first!, StunAttr.NONCE);
    wall += 601_000;
    const stale = await c.transact(c.signed(StunMethod.Allocate, udp));
    assert.equal(code(stale), 438);
    assert.equal(text(stale!, StunAttr.REALM), REALM);
    c.nonce = text(stale!, StunAttr.NONCE);
    assert.equal(code(await c.transact(c.signed(StunMethod.Allocate, udp))), 200);
  });

  it('allocates: XOR-RELAYED-ADDRESS on the relay address, LIFETIME 600, XOR-MAPPED-ADDRESS, signed with the key; a retransmission gets the same answer, another Allocate 437', async () => {
    const c = client();
    const ok = await c.allocate();
    assert.equal(code(ok), 200);
    assert.ok(verifyMessageIntegrity(ok, key('alice')));
    const relayed = xor(ok, StunAttr.XOR_RELAYED_ADDRESS);
    assert.equal(relayed.address, '127.0.0.1');
    assert.ok(relayed.port > 0);
    assert.equal(Buffer.from(ok.get(StunAttr.LIFETIME)!.value).readUInt32BE(0), 600);
    assert.deepEqual(xor(ok, StunAttr.XOR_MAPPED_ADDRESS), { family: 4, address: '127.0.0.1', port: c.port });
    const again = await c.transact(rebuildWithTx(c, ok.transactionId));
    assert.deepEqual(Buffer.from(again!.bytes), Buffer.from(ok.bytes));
    const other = await c.transact(c.signed(StunMethod.Allocate, udp));
    assert.equal(code(other), 437);
    assert.equal(server.allocationCount, 1);
  });

  it('grants the default lifetime for a shorter request and the maximum for a longer one', async () => {
    const lifetime = (s: number) => (b: StunMessageBuilder) => {
      udp(b);
      b.addUint32(StunAttr.LIFETIME, s);
    };
    const short = await client().allocate(lifetime(10));
    const long = await client().allocate(lifetime(100_000));
    assert.equal(Buffer.from(short.get(StunAttr.LIFETIME)!.value).readUInt32BE(0), 600);
    assert.equal(Buffer.from(long.get(StunAttr.LIFETIME)!.value).readUInt32BE(0), 3600);
  });

  it('refuses what it does not do: 400 without REQUESTED-TRANSPORT, 442 for SCTP, 400 for TCP over UDP (RFC 6062 §5.1), 420 for DONT-FRAGMENT and an unknown comprehension-required attribute (listed in UNKNOWN-ATTRIBUTES)', async () => {
    assert.equal(code(await client().allocate(() => {})), 400);
    assert.equal(code(await client().allocate((b) => b.add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(132, 0, 0, 0)))), 442);
    assert.equal(code(await client().allocate((b) => b.add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(6, 0, 0, 0)))), 400);
    const df = await client().allocate((b) => {
      udp(b);
      b.add(StunAttr.DONT_FRAGMENT, new Uint8Array(0));
    });
    assert.equal(code(df), 420);
    assert.deepEqual([...df.get(StunAttr.UNKNOWN_ATTRIBUTES)!.value], [0x00, 0x1a]);
    const odd = await client().allocate((b) => {
      udp(b);
      b.add(0x7777, Uint8Array.of(1, 2, 3, 4));
    });
    assert.equal(code(odd), 420);
    assert.deepEqual([...odd.get(StunAttr.UNKNOWN_ATTRIBUTES)!.value], [0x77, 0x77]);
    assert.equal(server.allocationCount, 0);
  });

  it('relays through a channel both ways: ChannelData to the peer, the peer\'s datagrams back as ChannelData; counts bytes and packets', async () => {
    const c = client();
    const relayed = xor(await c.allocate(), StunAttr.XOR_RELAYED_ADDRESS);
    const bound = await c.transact(c.signed(StunMethod.ChannelBind, (b) => (channel(0x4001)(b), peerAttr('127.0.0.1', peerPort)(b))));
    assert.equal(code(bound), 200);
    c.send(channelData(0x4001, Buffer.from('hello peer')));
    await until(() => peerGot.length === 1);
    assert.equal(peerGot[0]!.data.toString(), 'hello peer');
    assert.equal(peerGot[0]!.port, relayed.port);
    const before = c.got.length;
    peer.send(Buffer.from('hello client'), relayed.port, '127.0.0.1');
    await until(() => c.got.length > before);
    const back = c.got.at(-1)!;
    assert.deepEqual([...back.subarray(0, 4)], [0x40, 0x01, 0, 12]);
    assert.equal(Buffer.from(back.subarray(4)).toString(), 'hello client');
    const [info] = server.allocations();
    assert.deepEqual([info!.counters.packetsToPeer, info!.counters.bytesToPeer, info!.counters.packetsFromPeer, info!.counters.bytesFromPeer], [1, 10, 1, 12]);
    assert.equal(info!.user, 'alice');
  });

  it('tells of each allocation made and ended (the operator\'s events), with the bytes relayed each way', async () => {
    const events: TurnAllocationEvent[] = [];
    start({ onEvent: (e) => events.push(e) });
    const c = client();
    const relayed = xor(await c.allocate(), StunAttr.XOR_RELAYED_ADDRESS);
    assert.equal(code(await c.transact(c.signed(StunMethod.ChannelBind, (b) => (channel(0x4001)(b), peerAttr('127.0.0.1', peerPort)(b))))), 200);
    c.send(channelData(0x4001, Buffer.from('hello peer')));
    await until(() => peerGot.length === 1);
    assert.equal(code(await c.transact(c.signed(StunMethod.Refresh, (b) => b.addUint32(StunAttr.LIFETIME, 0)))), 200);
    assert.deepEqual(
      events.map((e) => [e.type, e.username, e.client, e.relayed, e.bytesToPeer, e.bytesToClient]),
      [
        ['turn.allocation.created', 'alice', `udp:${c.address}:${c.port}`, `127.0.0.1:${relayed.port}`, undefined, undefined],
        ['turn.allocation.ended', 'alice', `udp:${c.address}:${c.port}`, `127.0.0.1:${relayed.port}`, 10, 0],
      ],
    );
  });

  it('relays a Send indication only with a permission, and the peer\'s answer as a Data indication', async () => {
    const c = client();
    const relayed = xor(await c.allocate(), StunAttr.XOR_RELAYED_ADDRESS);
    const sendIndication = (data: string): Uint8Array => {
      const b = new StunMessageBuilder(StunMethod.Send, 'indication', randomBytes(12));
      peerAttr('127.0.0.1', peerPort)(b);
      return b.add(StunAttr.DATA, Buffer.from(data)).build();
    };
    c.send(sendIndication('no permission yet'));
    await wait(30);
    assert.equal(peerGot.length, 0);
    assert.equal(code(await c.transact(c.signed(StunMethod.CreatePermission, peerAttr('127.0.0.1', peerPort)))), 200);
    c.send(sendIndication('with permission'));
    await until(() => peerGot.length === 1);
    assert.equal(peerGot[0]!.data.toString(), 'with permission');
    const before = c.got.length;
    peer.send(Buffer.from('reply'), relayed.port, '127.0.0.1');
    await until(() => c.got.length > before);
    const data = parseStunMessage(c.got.at(-1)!);
    assert.ok(data.ok);
    assert.equal(data.value.method, StunMethod.Data);
    assert.equal(data.value.class, 'indication');
    assert.deepEqual(xor(data.value, StunAttr.XOR_PEER_ADDRESS), { family: 4, address: '127.0.0.1', port: peerPort });
    assert.equal(Buffer.from(data.value.get(StunAttr.DATA)!.value).toString(), 'reply');
  });

  it('drops data from a peer without a permission, and every packet once the permission has expired (300 s)', async () => {
    const c = client();
    const relayed = xor(await c.allocate(), StunAttr.XOR_RELAYED_ADDRESS);
    const before = c.got.length;
    peer.send(Buffer.from('unasked'), relayed.port, '127.0.0.1');
    await wait(30);
    assert.equal(c.got.length, before);
    await c.transact(c.signed(StunMethod.CreatePermission, peerAttr('127.0.0.1', peerPort)));
    clock.advance(301_000);
    server.tick();
    peer.send(Buffer.from('too late'), relayed.port, '127.0.0.1');
    await wait(30);
    assert.equal(c.got.length, before + 1); // the CreatePermission's success only
    assert.ok(server.allocations()[0]!.counters.dropped >= 2);
  });

  it('checks the peer policy on CreatePermission, ChannelBind and Send: 403 for denied spellings (0.0.0.0, 10.0.0.1, 169.254.169.254, ::ffff:127.0.0.1 and ::1 on an IPv6 allocation)', async () => {
    start({ peers: new PeerPolicy({}) });
    const v4 = client();
    await v4.allocate();
    for (const address of ['127.0.0.1', '0.0.0.0', '10.0.0.1', '169.254.169.254', '255.255.255.255', '224.0.0.1']) {
      assert.equal(code(await v4.transact(v4.signed(StunMethod.CreatePermission, peerAttr(address, 9)))), 403, `CreatePermission ${address}`);
      assert.equal(code(await v4.transact(v4.signed(StunMethod.ChannelBind, (b) => (channel(0x4002)(b), peerAttr(address, 9)(b))))), 403, `ChannelBind ${address}`);
    }
    const v6 = client();
    await v6.allocate((b) => (udp(b), b.add(StunAttr.REQUESTED_ADDRESS_FAMILY, Uint8Array.of(2, 0, 0, 0))));
    for (const address of ['::1', '::', '::ffff:127.0.0.1', '::ffff:0.0.0.0', '::127.0.0.1', 'fe80::1', '64:ff9b::7f00:1', '2002:7f00:1::1']) {
      assert.equal(code(await v6.transact(v6.signed(StunMethod.CreatePermission, peerAttr(address, 9)))), 403, `CreatePermission ${address}`);
    }
    // Send: a denied peer gets nothing, even with the policy changed under a permission
    start({ peers: new PeerPolicy({ allow: ['127.0.0.1/32'] }) });
    const s = client();
    await s.allocate();
    await s.transact(s.signed(StunMethod.CreatePermission, peerAttr('127.0.0.1', peerPort)));
    (server as unknown as { o: { peers: PeerPolicy } }).o.peers = new PeerPolicy({});
    const b = new StunMessageBuilder(StunMethod.Send, 'indication', randomBytes(12));
    peerAttr('127.0.0.1', peerPort)(b);
    s.send(b.add(StunAttr.DATA, Buffer.from('denied')).build());
    await wait(30);
    assert.equal(peerGot.length, 0);
  });

  it('counts a packet whose handling throws and goes on serving', async () => {
    start({ peers: { check: () => { throw new Error('a bug'); } } });
    const c = client();
    await c.allocate();
    assert.equal(await c.transact(c.signed(StunMethod.CreatePermission, peerAttr('127.0.0.1', 9))), undefined);
    assert.equal(server.stats.faults, 1);
    assert.equal(code(await c.transact(c.signed(StunMethod.Refresh))), 200);
  });

  it('answers 443 for a peer of the other family', async () => {
    const c = client();
    await c.allocate();
    assert.equal(code(await c.transact(c.signed(StunMethod.CreatePermission, peerAttr('::1', 9)))), 443);
  });

  it('ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §7.2): an IPv4 and an IPv6 relayed address in one allocation, each family relayed from its own, both ways', async () => {
    const dual = (b: StunMessageBuilder): void => void (udp(b), b.add(StunAttr.ADDITIONAL_ADDRESS_FAMILY, Uint8Array.of(2, 0, 0, 0)));
    const c = client();
    const ok = await c.allocate(dual);
    assert.equal(code(ok), 200);
    const relayed = ok.attributes.filter((a) => a.type === StunAttr.XOR_RELAYED_ADDRESS).map((a) => readXorAddress(a, ok.transactionId));
    assert.deepEqual(
      relayed.map((r) => (r.ok ? [r.value.family, r.value.address] : undefined)),
      [
        [4, '127.0.0.1'],
        [6, '::1'],
      ],
    );
    assert.equal(ok.get(StunAttr.ADDRESS_ERROR_CODE), undefined);
    assert.match(server.allocations()[0]!.relayed, /^127\.0\.0\.1:\d+ \[::1\]:\d+$/);
    const peer6 = createSocket({ type: 'udp6', ipv6Only: true });
    const peer6Got: Array<{ data: Buffer; port: number }> = [];
    peer6.on('message', (data, rinfo) => peer6Got.push({ data, port: rinfo.port }));
    await new Promise<void>((r) => peer6.bind(0, '::1', () => r()));
    try {
      const peer6Port = peer6.address().port;
      assert.equal(code(await c.transact(c.signed(StunMethod.CreatePermission, (b) => (peerAttr('127.0.0.1', peerPort)(b), peerAttr('::1', peer6Port)(b))))), 200);
      for (const [address, port] of [
        ['127.0.0.1', peerPort],
        ['::1', peer6Port],
      ] as const) {
        const b = new StunMessageBuilder(StunMethod.Send, 'indication', randomBytes(12));
        peerAttr(address, port)(b);
        c.send(b.add(StunAttr.DATA, Buffer.from(`to ${address}`)).build());
      }
      for (let i = 0; i < 100 && (peerGot.length === 0 || peer6Got.length === 0); i++) await wait(5);
      assert.deepEqual([peerGot[0]?.data.toString(), peerGot[0]?.port], ['to 127.0.0.1', relayed[0]!.ok ? relayed[0]!.value.port : -1]);
      assert.deepEqual([peer6Got[0]?.data.toString(), peer6Got[0]?.port], ['to ::1', relayed[1]!.ok ? relayed[1]!.value.port : -1]);
      // the IPv6 peer answers to the IPv6 relayed address: a Data indication naming it
      const before = c.got.length;
      peer6.send(Buffer.from('from ::1'), peer6Got[0]!.port, '::1');
      for (let i = 0; i < 100 && c.got.length === before; i++) await wait(5);
      const data = parseStunMessage(c.got[before]!);
      assert.ok(data.ok && data.value.method === StunMethod.Data);
      assert.deepEqual(xor(data.value, StunAttr.XOR_PEER_ADDRESS), { family: 6, address: '::1', port: peer6Port });
      assert.equal(Buffer.from(data.value.get(StunAttr.DATA)!.value).toString(), 'from ::1');
      // ::ffff:127.0.0.1 is the IPv4 peer: its channel relays from the IPv4 relayed address
      assert.equal(code(await c.transact(c.signed(StunMethod.ChannelBind, (b) => (channel(0x4001)(b), peerAttr('::ffff:127.0.0.1', peerPort)(b))))), 200);
      c.send(channelData(0x4001, Buffer.from('mapped')));
      for (let i = 0; i < 100 && peerGot.length < 2; i++) await wait(5);
      assert.deepEqual([peerGot[1]?.data.toString(), peerGot[1]?.port], ['mapped', relayed[0]!.ok ? relayed[0]!.value.port : -1]);
    } finally {
      peer6.close();
    }
  });

  it('ADDITIONAL-ADDRESS-FAMILY: 400 with REQUESTED-ADDRESS-FAMILY, for IPv4, with EVEN-PORT R or a RESERVATION-TOKEN; a family the server has no relay address for is named in ADDRESS-ERROR-CODE (440), the other served', async () => {
    const additional = (value: number) => (b: StunMessageBuilder) => void b.add(StunAttr.ADDITIONAL_ADDRESS_FAMILY, Uint8Array.of(value, 0, 0, 0));
    const refused = async (add: (b: StunMessageBuilder) => void): Promise<number | undefined> => code(await client().allocate((b) => (udp(b), add(b))));
    assert.equal(await refused((b) => (additional(2)(b), b.add(StunAttr.REQUESTED_ADDRESS_FAMILY, Uint8Array.of(1, 0, 0, 0)))), 400);
    assert.equal(await refused(additional(1)), 400);
    assert.equal(await refused((b) => (additional(2)(b), b.add(StunAttr.EVEN_PORT, Uint8Array.of(0x80)))), 400);
    assert.equal(await refused((b) => (additional(2)(b), b.add(StunAttr.RESERVATION_TOKEN, new Uint8Array(8)))), 400);
    for (const [served, missing] of [
      [4, 6],
      [6, 4],
    ] as const) {
      start({ relays: new RelayPorts({ addresses: served === 4 ? { 4: '127.0.0.1' } : { 6: '::1' }, minPort: 0, maxPort: 0 }) });
      const ok = await client().allocate((b) => (udp(b), additional(2)(b)));
      assert.equal(code(ok), 200, `only IPv${served}`);
      const relayed = ok.attributes.filter((a) => a.type === StunAttr.XOR_RELAYED_ADDRESS);
      assert.equal(relayed.length, 1);
      assert.equal(xor(ok, StunAttr.XOR_RELAYED_ADDRESS).family, served);
      assert.deepEqual(readAddressErrorCode(ok.get(StunAttr.ADDRESS_ERROR_CODE)!), { ok: true, value: { family: missing, code: 440, reason: 'Address Family not Supported' } });
    }
    // no relay address at all: 440
    start({ relays: new RelayPorts({ addresses: {}, minPort: 0, maxPort: 0 }) });
    assert.equal(code(await client().allocate((b) => (udp(b), additional(2)(b)))), 440);
  });

  it('binds channels 0x4000-0x7FFF only, and refuses to rebind a number or a peer to another', async () => {
    const c = client();
    await c.allocate();
    const bind = (n: number, port: number) => c.transact(c.signed(StunMethod.ChannelBind, (b) => (channel(n)(b), peerAttr('127.0.0.1', port)(b))));
    assert.equal(code(await bind(0x3fff, peerPort)), 400);
    assert.equal(code(await bind(0x8000, peerPort)), 400);
    assert.equal(code(await bind(0x4000, peerPort)), 200);
    assert.equal(code(await bind(0x4000, peerPort)), 200); // a refresh
    assert.equal(code(await bind(0x4000, peerPort + 1)), 400);
    assert.equal(code(await bind(0x4abc, peerPort)), 400);
    assert.equal(code(await bind(0x7fff, peerPort + 1)), 200);
  });

  it('Refresh: 437 without an allocation, 441 for another user, LIFETIME 0 deletes the allocation', async () => {
    const stranger = client();
    stranger.nonce = text((await stranger.transact(new StunMessageBuilder(StunMethod.Refresh, 'request', randomBytes(12)).build()))!, StunAttr.NONCE);
    assert.equal(code(await stranger.transact(stranger.signed(StunMethod.Refresh))), 437);
    const c = client();
    await c.allocate();
    assert.equal(code(await c.transact(c.signed(StunMethod.Refresh, () => {}, { user: 'bob', password: PASSWORDS.bob }))), 441);
    const gone = await c.transact(c.signed(StunMethod.Refresh, (b) => b.addUint32(StunAttr.LIFETIME, 0)));
    assert.equal(code(gone), 200);
    assert.equal(Buffer.from(gone!.get(StunAttr.LIFETIME)!.value).readUInt32BE(0), 0);
    assert.equal(server.allocationCount, 0);
  });

  it('expires an allocation after its lifetime unless refreshed', async () => {
    const c = client();
    await c.allocate();
    clock.advance(500_000);
    assert.equal(code(await c.transact(c.signed(StunMethod.Refresh))), 200);
    clock.advance(500_000);
    server.tick();
    assert.equal(server.allocationCount, 1);
    clock.advance(101_000);
    server.tick();
    assert.equal(server.allocationCount, 0);
  });

  it('answers 486 past the per-user quota and 508 past the total', async () => {
    start({ quotas: { perUser: 1, total: 2 } });
    assert.equal(code(await client('alice').allocate()), 200);
    assert.equal(code(await client('alice').allocate()), 486);
    assert.equal(code(await client('bob').allocate()), 200);
    const third = await client('bob', PASSWORDS.bob).allocate();
    assert.equal(code(third), 486);
    start({ quotas: { perUser: 0, total: 1 } });
    assert.equal(code(await client('alice').allocate()), 200);
    assert.equal(code(await client('bob').allocate()), 508);
  });

  it('EVEN-PORT with R: an even relayed port, the next one held for the RESERVATION-TOKEN, which a later Allocate takes (an unknown token: 508)', async () => {
    start({ relays: new RelayPorts({ addresses: { 4: '127.0.0.1' }, minPort: 45000, maxPort: 45999 }) });
    const rtp = await client().allocate((b) => (udp(b), b.add(StunAttr.EVEN_PORT, Uint8Array.of(0x80))));
    assert.equal(code(rtp), 200);
    const even = xor(rtp, StunAttr.XOR_RELAYED_ADDRESS).port;
    assert.equal(even % 2, 0);
    const token = rtp.get(StunAttr.RESERVATION_TOKEN)!.value;
    assert.equal(token.length, 8);
    const rtcp = await client().allocate((b) => (udp(b), b.add(StunAttr.RESERVATION_TOKEN, token)));
    assert.equal(code(rtcp), 200);
    assert.equal(xor(rtcp, StunAttr.XOR_RELAYED_ADDRESS).port, even + 1);
    const again = await client().allocate((b) => (udp(b), b.add(StunAttr.RESERVATION_TOKEN, token)));
    assert.equal(code(again), 508);
  });

  it('answers 508 when no relay port can be bound', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    const taken = holder.address().port;
    try {
      start({ relays: new RelayPorts({ addresses: { 4: '127.0.0.1' }, minPort: taken, maxPort: taken }) });
      assert.equal(code(await client().allocate()), 508);
      assert.equal(code(await client().allocate((b) => (udp(b), b.add(StunAttr.REQUESTED_ADDRESS_FAMILY, Uint8Array.of(2, 0, 0, 0))))), 440);
    } finally {
      holder.close();
    }
  });

  it('drops what exceeds the bandwidth limit of an allocation (a burst of one second, at least 64 KiB)', async () => {
    start({ bandwidth: 1000 });
    const c = client();
    await c.allocate();
    await c.transact(c.signed(StunMethod.ChannelBind, (b) => (channel(0x4001)(b), peerAttr('127.0.0.1', peerPort)(b))));
    const kb = new Uint8Array(1000);
    for (let i = 0; i < 80; i++) c.send(channelData(0x4001, kb));
    await until(() => peerGot.length >= 65);
    await wait(30);
    assert.equal(peerGot.length, 65);
    assert.equal(server.allocations()[0]!.counters.dropped, 15);
  });

  it('accepts REST credentials (expiry:user, HMAC-SHA1 password) with any secret in force, and refuses expired ones', async () => {
    const secrets = new RestSecrets(['new-secret', 'old-secret']);
    const rest: TurnCredentials = {
      async keys(username, realm) {
        const r = secrets.keys(username, realm, wall / 1000);
        return r.ok ? { keys: r.value.keys, user: r.value.user } : undefined;
      },
    };
    start({ credentials: rest });
    const old = new RestSecrets(['old-secret']).make('carol', 3600, wall / 1000);
    const c = new Client(server, listener, '127.0.0.1', 45555, old.username, old.password);
    clients.set('127.0.0.1:45555', c);
    // Client.signed derives the key from user and password with our realm
    const restKey = longTermKey(old.username, REALM, old.password);
    assert.deepEqual(Buffer.from(key(old.username, old.password)), restKey);
    const ok = await c.allocate();
    assert.equal(code(ok), 200);
    assert.equal(server.allocations()[0]!.user, 'carol');
    const expired = new RestSecrets(['new-secret']).make('dave', 60, wall / 1000 - 120);
    const d = new Client(server, listener, '127.0.0.1', 45556, expired.username, expired.password);
    clients.set('127.0.0.1:45556', d);
    assert.equal(code(await d.allocate()), 401);
  });

  it('never answers an unauthenticated request with more bytes than it had (the 401/438 challenge aside)', async () => {
    const c = client();
    // an unknown method: 400, larger than a bare 20-byte request, is not sent
    const bare = new StunMessageBuilder(0x0ff, 'request', randomBytes(12)).build();
    assert.equal(await c.transact(bare), undefined);
    assert.equal(server.stats.amplificationDrops, 1);
    // with credentials, but no allocation: 437, smaller than the signed request, is sent
    const signed = c.signed(StunMethod.CreatePermission, peerAttr('127.0.0.1', 9));
    c.nonce = text((await c.transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).build()))!, StunAttr.NONCE);
    const answer = await c.transact(c.signed(StunMethod.CreatePermission, peerAttr('127.0.0.1', 9)));
    assert.equal(code(answer), 437);
    assert.ok(answer!.bytes.length <= signed.length);
  });

  // --- RFC 8489 §9.2: password algorithms and USERHASH ---------------------------------------

  it('challenges with the nonce cookie (password algorithms and username anonymity bits) and PASSWORD-ALGORITHMS SHA-256 then MD5, in 401 and 438 alike', async () => {
    const c = client();
    const challenge = await c.transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).build());
    assert.equal(code(challenge), 401);
    const nonce = text(challenge!, StunAttr.NONCE);
    assert.ok(nonce.startsWith('obMatJos2'), nonce);
    assert.equal(nonceFeatures(nonce), 0b11);
    const list = readPasswordAlgorithms(challenge!.get(StunAttr.PASSWORD_ALGORITHMS)!);
    assert.ok(list.ok);
    assert.deepEqual(list.value.map((e) => e.algorithm), [PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]);
    c.nonce = nonce;
    wall += 601_000;
    const stale = await c.transact(c.signed(StunMethod.Allocate, udp, { algorithm: 'sha256' }));
    assert.equal(code(stale), 438);
    assert.equal(nonceFeatures(text(stale!, StunAttr.NONCE)), 0b11);
    assert.deepEqual(Buffer.from(stale!.get(StunAttr.PASSWORD_ALGORITHMS)!.value), Buffer.from(OFFERED));
  });

  it('SHA-256: PASSWORD-ALGORITHM SHA-256 with the list echoed and MESSAGE-INTEGRITY-SHA256 over the SHA-256 key allocates, signed the same way; requests on the allocation keep that key (an MD5 one is 441)', async () => {
    const c = client();
    const ok = await c.allocate(udp, { algorithm: 'sha256' });
    assert.equal(code(ok), 200);
    assert.equal(ok.get(StunAttr.MESSAGE_INTEGRITY), undefined);
    assert.ok(verifyMessageIntegritySha256(ok, key('alice', undefined, 'sha256')));
    const refresh = await c.transact(c.signed(StunMethod.Refresh, () => {}, { algorithm: 'sha256' }));
    assert.equal(code(refresh), 200);
    assert.ok(verifyMessageIntegritySha256(refresh!, key('alice', undefined, 'sha256')));
    const md5 = await c.transact(c.signed(StunMethod.Refresh));
    assert.equal(code(md5), 441);
    // the SHA-256 key with HMAC-SHA1 (MESSAGE-INTEGRITY) is accepted as well, and answered so
    const sha1 = await c.transact(c.signed(StunMethod.CreatePermission, peerAttr('127.0.0.1', peerPort), { algorithm: 'sha256', integrity: 'sha1' }));
    assert.equal(code(sha1), 200);
    assert.ok(verifyMessageIntegrity(sha1!, key('alice', undefined, 'sha256')));
  });

  it('MD5 for clients of RFC 5389 (no PASSWORD-ALGORITHM, MESSAGE-INTEGRITY only): allocates and answers with MESSAGE-INTEGRITY over the MD5 key; the SHA-256 key without PASSWORD-ALGORITHM is a wrong password', async () => {
    const c = client();
    const ok = await c.allocate();
    assert.equal(code(ok), 200);
    assert.equal(ok.get(StunAttr.MESSAGE_INTEGRITY_SHA256), undefined);
    assert.ok(verifyMessageIntegrity(ok, key('alice')));
    const d = client();
    const wrong = await d.allocate(udp, { algorithm: 'sha256', one: null, list: null });
    assert.equal(code(wrong), 401);
  });

  it('400 when the password algorithms are not what the server offered: PASSWORD-ALGORITHMS changed or left out, PASSWORD-ALGORITHM alone or not in the list (RFC 8489 §9.2.4)', async () => {
    const sha256 = passwordAlgorithmsValue([PasswordAlgorithm.SHA256]);
    const cases: Signing[] = [
      { algorithm: 'sha256', list: passwordAlgorithmsValue([PasswordAlgorithm.MD5, PasswordAlgorithm.SHA256]) }, // reordered
      { algorithm: 'sha256', list: passwordAlgorithmsValue([PasswordAlgorithm.SHA256]) }, // MD5 dropped
      { algorithm: 'sha256', list: null },
      { algorithm: 'md5', one: null, list: OFFERED },
      { algorithm: 'sha256', one: passwordAlgorithmsValue([3]), list: OFFERED },
      { algorithm: 'sha256', one: sha256.subarray(0, 2), list: OFFERED }, // malformed
    ];
    for (const signing of cases) {
      const c = client();
      const answer = await c.allocate(udp, signing);
      assert.equal(code(answer), 400, JSON.stringify(signing));
    }
    assert.equal(server.allocationCount, 0);
    assert.deepEqual(failures, []);
  });

  it('the same 401 for an unknown user and a wrong password with either algorithm and either integrity: same attributes, same size; each counted', async () => {
    const port = 47000;
    const answers: StunMessage[] = [];
    for (const signing of [{}, { algorithm: 'sha256' }, { algorithm: 'sha256', integrity: 'sha1' }, { integrity: 'sha256' }] as Signing[]) {
      for (const [user, password] of [['alice', 'not-her-password'], ['mallory', 'whatever']] as const) {
        // the same client address and port, so that the nonces have the same size too
        const c = new Client(server, listener, '127.0.0.1', port, user, password);
        clients.set(`127.0.0.1:${port}`, c);
        const answer = await c.allocate(udp, signing);
        assert.equal(code(answer), 401, JSON.stringify({ user, signing }));
        answers.push(answer);
      }
    }
    for (const a of answers) {
      assert.deepEqual(a.attributes.map((x) => x.type), answers[0]!.attributes.map((x) => x.type));
      assert.equal(a.bytes.length, answers[0]!.bytes.length);
    }
    assert.equal(failures.length, 8);
  });

  it('a nonce changed on the way (its feature bits cleared: a bid-down) or given to another address is stale: 438; another port gets another nonce', async () => {
    const c = client();
    const challenge = await c.transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).build());
    const nonce = text(challenge!, StunAttr.NONCE);
    c.nonce = nonceCookie(0) + nonce.slice(13);
    assert.equal(code(await c.transact(c.signed(StunMethod.Allocate, udp))), 438);
    const elsewhere = new Client(server, listener, '127.0.0.2', 40000);
    clients.set('127.0.0.2:40000', elsewhere);
    elsewhere.nonce = nonce;
    assert.equal(code(await elsewhere.transact(elsewhere.signed(StunMethod.Allocate, udp))), 438);
    // RFC 8489 §9.2.4: "The server MUST NOT choose the same NONCE for two requests unless they
    // have the same source IP address and port"
    const other = client();
    const otherChallenge = await other.transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).build());
    assert.notEqual(text(otherChallenge!, StunAttr.NONCE), nonce);
    c.nonce = nonce;
    assert.equal(code(await c.transact(c.signed(StunMethod.Allocate, udp))), 200);
  });

  it('USERHASH instead of USERNAME finds the user (SHA-256 of username:realm); an unknown hash is an unknown user (401); requests on the allocation with USERHASH or USERNAME of its user pass, another user\'s USERHASH is 441', async () => {
    const c = client();
    const ok = await c.allocate(udp, { algorithm: 'sha256', userhash: true });
    assert.equal(code(ok), 200);
    assert.ok(verifyMessageIntegritySha256(ok, key('alice', undefined, 'sha256')));
    assert.equal(server.allocations()[0]!.user, 'alice');
    assert.equal(code(await c.transact(c.signed(StunMethod.Refresh, () => {}, { algorithm: 'sha256', userhash: true }))), 200);
    assert.equal(code(await c.transact(c.signed(StunMethod.Refresh, () => {}, { algorithm: 'sha256' }))), 200);
    assert.equal(code(await c.transact(c.signed(StunMethod.Refresh, () => {}, { algorithm: 'sha256', userhash: true, user: 'bob' }))), 441);
    const nobody = client('mallory', 'x');
    const unknown = await nobody.allocate(udp, { algorithm: 'sha256', userhash: true });
    assert.equal(code(unknown), 401);
    // a USERHASH that is not 32 bytes: 400
    const d = client();
    const bad = new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12));
    udp(bad);
    bad.add(StunAttr.USERHASH, new Uint8Array(16)).addString(StunAttr.REALM, REALM).addString(StunAttr.NONCE, text(unknown, StunAttr.NONCE)).addMessageIntegrity(key('alice'));
    assert.equal(code(await d.transact(bad.build())), 400);
  });
});

/** The authenticated Allocate again with the transaction ID of the first (a retransmission). */
function rebuildWithTx(c: Client, txid: Uint8Array): Uint8Array {
  return c.signed(StunMethod.Allocate, udp, { txid: new Uint8Array(txid) });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await wait(5);
  assert.ok(cond(), 'timed out');
}
