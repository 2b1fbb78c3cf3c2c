// TCP relaying (RFC 6062) end to end on loopback: a real StreamListener, real client connections
// (control and data), real TCP peers (an echo server, a peer dialling the relayed address);
// time for the 30-second ConnectionBind timer is a FakeClock.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../../test/support/fake-clock.js';
import { parseStunMessage, readErrorCode, readXorAddress, StunAttr, StunMessageBuilder, StunMethod, StunStreamFramer, type StunMessage, type TransportAddress } from '../stun/index.js';
import { NonceIssuer } from './nonce.js';
import { PeerPolicy } from './peer-policy.js';
import { RelayPorts } from './relay-ports.js';
import { StreamListener } from './stream-listener.js';
import { MAX_CONNECTIONS_PER_ALLOCATION } from './tcp-relay.js';
import { TurnServer, type TurnServerOptions } from './turn-server.js';

const REALM = 'example.test';
const KEY = createHash('md5').update(`alice:${REALM}:pw`).digest();
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await wait(5);
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const code = (m: StunMessage | undefined): number => {
  assert.ok(m !== undefined, 'no answer');
  const a = m.get(StunAttr.ERROR_CODE);
  if (a === undefined) return m.class === 'success' ? 200 : -1;
  const r = readErrorCode(a);
  return r.ok ? r.value.code : -1;
};

const connectionId = (m: StunMessage): number => Buffer.from(m.get(StunAttr.CONNECTION_ID)!.value).readUInt32BE(0);

function xor(m: StunMessage, type: number): TransportAddress {
  const r = readXorAddress(m.get(type)!, m.transactionId);
  assert.ok(r.ok);
  return r.value;
}

/**
 * A client connection to the TURN server: STUN messages out, those that come back framed. A data
 * connection (`dataConnection`) reads one STUN message, the ConnectionBind answer, by its length;
 * every byte after it is the peer's, as it is.
 */
class StreamClient {
  readonly stun: StunMessage[] = [];
  closed = false;
  /** Bytes after the ConnectionBind answer (a data connection). */
  raw = Buffer.alloc(0);

  private constructor(
    readonly socket: Socket,
    dataConnection: boolean,
  ) {
    const framer = new StunStreamFramer({
      onStun: (b) => {
        const m = parseStunMessage(new Uint8Array(b));
        if (m.ok) this.stun.push(m.value);
      },
      onChannelData: () => {},
    });
    let head = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      if (!dataConnection) {
        framer.push(d);
        return;
      }
      if (this.stun.length > 0) {
        this.raw = Buffer.concat([this.raw, d]);
        return;
      }
      head = Buffer.concat([head, d]);
      if (head.length < 20 || head.length < 20 + head.readUInt16BE(2)) return;
      const size = 20 + head.readUInt16BE(2);
      const m = parseStunMessage(new Uint8Array(head.subarray(0, size)));
      assert.ok(m.ok);
      this.raw = head.subarray(size);
      this.stun.push(m.value);
    });
    socket.on('error', () => {});
    socket.once('close', () => (this.closed = true));
  }

  static async open(port: number, dataConnection = false): Promise<StreamClient> {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => r()));
    return new StreamClient(s, dataConnection);
  }

  /** Send, and wait for the answer with this transaction ID. */
  async transact(bytes: Uint8Array): Promise<StunMessage> {
    const txid = Buffer.from(bytes.subarray(8, 20));
    this.socket.write(bytes);
    let found: StunMessage | undefined;
    await until(() => (found = this.stun.find((m) => Buffer.from(m.transactionId).equals(txid))) !== undefined, 'an answer');
    return found!;
  }
}

describe('TCP relaying (RFC 6062)', () => {
  let clock: FakeClock;
  let server: TurnServer;
  let tcp: Server;
  let listener: StreamListener;
  let port: number;
  let nonce: string;
  let control: StreamClient;
  let echo: Server;
  let echoPort: number;
  const others: Array<{ destroy(): void }> = [];

  const signed = (method: number, add: (b: StunMessageBuilder) => void = () => {}): Uint8Array => {
    const b = new StunMessageBuilder(method, 'request', randomBytes(12));
    add(b);
    return b.addString(StunAttr.USERNAME, 'alice').addString(StunAttr.REALM, REALM).addString(StunAttr.NONCE, nonce).addMessageIntegrity(KEY).build();
  };
  const tcpTransport = (b: StunMessageBuilder): void => void b.add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(6, 0, 0, 0));
  const peerAt = (address: string, p: number) => (b: StunMessageBuilder) => void b.addXorAddress(StunAttr.XOR_PEER_ADDRESS, { family: address.includes(':') ? 6 : 4, address, port: p });

  const start = async (o: Partial<TurnServerOptions> = {}): Promise<void> => {
    server = new TurnServer({
      realm: REALM,
      credentials: { keys: async (u) => (u === 'alice' ? { keys: [KEY], user: 'alice' } : undefined) },
      peers: new PeerPolicy({ allow: ['127.0.0.1/32'] }),
      relays: new RelayPorts({ addresses: { 4: '127.0.0.1' }, minPort: 0, maxPort: 0 }),
      lifetime: { default: 600, max: 3600 },
      nonces: new NonceIssuer(randomBytes(32), 600_000),
      quotas: { perUser: 0, total: 0 },
      bandwidth: 0,
      clock,
      ...o,
    });
    tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    port = (tcp.address() as AddressInfo).port;
    listener = new StreamListener({ server: tcp, transport: 'tcp', turn: server, firstId: 1000, maxConnections: 20, idleTimeoutMs: 60_000 });
    control = await StreamClient.open(port);
    const challenge = await control.transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).build());
    nonce = new TextDecoder().decode(challenge.get(StunAttr.NONCE)!.value);
  };

  /** A TCP allocation on the control connection: its relayed address. */
  const allocate = async (): Promise<TransportAddress> => {
    const ok = await control.transact(signed(StunMethod.Allocate, tcpTransport));
    assert.equal(code(ok), 200);
    return xor(ok, StunAttr.XOR_RELAYED_ADDRESS);
  };

  /** A new client connection bound to the peer data connection `id`. */
  const bind = async (id: number): Promise<{ client: StreamClient; answer: StunMessage }> => {
    const client = await StreamClient.open(port, true);
    others.push(client.socket);
    const answer = await client.transact(signed(StunMethod.ConnectionBind, (b) => b.addUint32(StunAttr.CONNECTION_ID, id)));
    return { client, answer };
  };

  beforeEach(async () => {
    clock = new FakeClock();
    echo = createServer((s) => {
      s.on('error', () => {});
      s.pipe(s);
      others.push(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as AddressInfo).port;
    await start();
  });

  afterEach(() => {
    for (const o of others.splice(0)) o.destroy();
    control.socket.destroy();
    listener.close();
    server.close();
    echo.close();
  });

  it('Allocate with REQUESTED-TRANSPORT TCP: a TCP relayed address that accepts connections; 400 with EVEN-PORT, RESERVATION-TOKEN or DONT-FRAGMENT', async () => {
    for (const extra of [
      (b: StunMessageBuilder) => void b.add(StunAttr.EVEN_PORT, Uint8Array.of(0)),
      (b: StunMessageBuilder) => void b.add(StunAttr.RESERVATION_TOKEN, new Uint8Array(8)),
      (b: StunMessageBuilder) => void b.add(StunAttr.DONT_FRAGMENT, new Uint8Array(0)),
    ]) {
      assert.equal(code(await control.transact(signed(StunMethod.Allocate, (b) => (tcpTransport(b), extra(b))))), 400);
    }
    const relayed = await allocate();
    assert.equal(relayed.address, '127.0.0.1');
    const s = connect(relayed.port, '127.0.0.1');
    others.push(s);
    await new Promise<void>((r, j) => (s.once('connect', () => r()), s.once('error', j)));
    assert.equal(server.allocations()[0]!.transport, 'tcp');
  });

  it('Connect: the server dials the peer and answers CONNECTION-ID; ConnectionBind on a new connection, then bytes as they are both ways; 446 for the same peer again', async () => {
    await allocate();
    const ok = await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', echoPort)));
    assert.equal(code(ok), 200);
    const id = connectionId(ok);
    // "the same XOR-PEER-ADDRESS, and the resulting [...] connections are either pending or active": 446
    assert.equal(code(await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', echoPort)))), 446);
    // the control connection cannot become a data connection: 400, and it stays a control connection
    assert.equal(code(await control.transact(signed(StunMethod.ConnectionBind, (b) => b.addUint32(StunAttr.CONNECTION_ID, id)))), 400);
    // an id that is no pending connection: 400, on its own connection
    assert.equal(code((await bind(id + 1)).answer), 400);
    const { client, answer } = await bind(id);
    assert.equal(code(answer), 200);
    // raw bytes, STUN-looking ones too: nothing is framed any more
    const payload = Buffer.concat([Buffer.from('not STUN at all, '), new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build()]);
    client.socket.write(payload);
    await until(() => client.raw.length >= payload.length, 'the echo');
    assert.deepEqual(client.raw, payload);
    // counted in the allocation's counters, both ways
    const counters = server.allocations()[0]!.counters;
    assert.equal(counters.bytesToPeer, payload.length);
    assert.equal(counters.bytesFromPeer, payload.length);
    // a second ConnectionBind for the same id: it is bound, not pending
    assert.equal(code((await bind(id)).answer), 400);
    // the peer data connection is still there: 446 still
    assert.equal(code(await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', echoPort)))), 446);
  });

  it('Connect: 447 when the peer refuses, 403 for a peer the policy denies, 400 without XOR-PEER-ADDRESS, 437 without an allocation, 400 on a UDP allocation', async () => {
    // no allocation on this connection yet
    assert.equal(code(await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', echoPort)))), 437);
    await allocate();
    const closedPort = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    assert.equal(code(await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', closedPort)))), 447);
    assert.equal(code(await control.transact(signed(StunMethod.Connect, peerAt('10.0.0.1', 80)))), 403);
    assert.equal(code(await control.transact(signed(StunMethod.Connect, peerAt('0.0.0.0', echoPort)))), 403);
    assert.equal(code(await control.transact(signed(StunMethod.Connect))), 400);
    // a UDP allocation on another connection
    const udpControl = await StreamClient.open(port);
    others.push(udpControl.socket);
    const udpOk = await udpControl.transact(signed(StunMethod.Allocate, (b) => void b.add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0))));
    assert.equal(code(udpOk), 200);
    assert.equal(code(await udpControl.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', echoPort)))), 400);
    // and ChannelBind on the TCP allocation: 400
    assert.equal(code(await control.transact(signed(StunMethod.ChannelBind, (b) => (b.add(StunAttr.CHANNEL_NUMBER, Uint8Array.of(0x40, 0, 0, 0)), peerAt('127.0.0.1', echoPort)(b))))), 400);
  });

  it(`holds at most ${MAX_CONNECTIONS_PER_ALLOCATION} peer data connections per allocation: one more Connect gets 508`, async () => {
    await allocate();
    const peers: Server[] = [];
    try {
      for (let i = 0; i <= MAX_CONNECTIONS_PER_ALLOCATION; i++) {
        const p = createServer((s) => (s.on('error', () => {}), others.push(s)));
        peers.push(p);
        await new Promise<void>((r) => p.listen(0, '127.0.0.1', () => r()));
      }
      const answers: number[] = [];
      for (const p of peers) answers.push(code(await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', (p.address() as AddressInfo).port)))));
      assert.deepEqual(answers, [...Array<number>(MAX_CONNECTIONS_PER_ALLOCATION).fill(200), 508]);
    } finally {
      for (const p of peers) p.close();
    }
  });

  it('a peer connecting to the relayed address: closed without a permission; with one, a ConnectionAttempt (XOR-PEER-ADDRESS, CONNECTION-ID), then ConnectionBind and bytes both ways', async () => {
    const relayed = await allocate();
    const refused = connect(relayed.port, '127.0.0.1');
    others.push(refused);
    refused.on('error', () => {});
    let refusedClosed = false;
    refused.once('close', () => (refusedClosed = true));
    await until(() => refusedClosed, 'the peer without a permission closed');
    assert.equal(control.stun.filter((m) => m.method === StunMethod.ConnectionAttempt).length, 0);

    assert.equal(code(await control.transact(signed(StunMethod.CreatePermission, peerAt('127.0.0.1', 1)))), 200);
    const peer = connect(relayed.port, '127.0.0.1');
    others.push(peer);
    await new Promise<void>((r) => peer.once('connect', () => r()));
    // the peer speaks first: its bytes wait until the client binds
    peer.write('hello from the peer');
    let attempt: StunMessage | undefined;
    await until(() => (attempt = control.stun.find((m) => m.method === StunMethod.ConnectionAttempt)) !== undefined, 'a ConnectionAttempt');
    assert.equal(attempt!.class, 'indication');
    assert.deepEqual(xor(attempt!, StunAttr.XOR_PEER_ADDRESS), { family: 4, address: '127.0.0.1', port: peer.localPort });
    const { client, answer } = await bind(connectionId(attempt!));
    assert.equal(code(answer), 200);
    await until(() => client.raw.toString() === 'hello from the peer', "the peer's bytes");
    let got = '';
    peer.on('data', (d: Buffer) => (got += d.toString()));
    client.socket.write('and back');
    await until(() => got === 'and back', 'the bytes to the peer');
    // §5.5: the client data connection closed: the peer data connection goes too
    let peerClosed = false;
    peer.once('close', () => (peerClosed = true));
    client.socket.destroy();
    await until(() => peerClosed, 'the peer connection closed');
  });

  it('closes a peer data connection not bound within 30 seconds (then its CONNECTION-ID is unknown: 400), and every data connection with the allocation', async () => {
    await allocate();
    let accepted: Socket | undefined;
    echo.once('connection', (s: Socket) => (accepted = s));
    const ok = await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', echoPort)));
    const id = connectionId(ok);
    await until(() => accepted !== undefined, 'the connection at the peer');
    let closed = false;
    accepted!.once('close', () => (closed = true));
    clock.advance(29_000);
    server.tick();
    await wait(50);
    assert.equal(closed, false);
    clock.advance(1_000);
    server.tick();
    await until(() => closed, 'the unbound peer connection closed');
    assert.equal(code((await bind(id)).answer), 400);

    // a bound one goes with its allocation (the control connection closed)
    const again = await control.transact(signed(StunMethod.Connect, peerAt('127.0.0.1', echoPort)));
    assert.equal(code(again), 200);
    const { client } = await bind(connectionId(again));
    control.socket.destroy();
    await until(() => client.closed, 'the client data connection closed with the allocation');
    assert.equal(server.allocationCount, 0);
  });
});
