// TURN over TCP: a real connection on loopback to a StreamListener, requests written one byte at
// a time, ChannelData both ways (padded towards the client), the allocation gone with the connection.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../../test/support/fake-clock.js';
import { parseStunMessage, readErrorCode, StunAttr, StunMessageBuilder, StunMethod, StunStreamFramer, type StunMessage } from '../stun/index.js';
import { NonceIssuer } from './nonce.js';
import { PeerPolicy } from './peer-policy.js';
import { RelayPorts } from './relay-ports.js';
import { StreamListener } from './stream-listener.js';
import { TurnServer } from './turn-server.js';

const REALM = 'example.test';
const KEY = createHash('md5').update(`alice:${REALM}:pw`).digest();
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('StreamListener (TURN over TCP)', () => {
  let server: TurnServer;
  let tcp: Server;
  let listener: StreamListener;
  let client: Socket;
  let peer: UdpSocket;
  const stun: StunMessage[] = [];
  const channelData: Array<{ channel: number; data: Buffer }> = [];
  let raw: Buffer;
  let clock: FakeClock;

  beforeEach(async () => {
    stun.length = 0;
    channelData.length = 0;
    raw = Buffer.alloc(0);
    clock = new FakeClock();
    server = new TurnServer({
      realm: REALM,
      credentials: { keys: async (u) => (u === 'alice' ? { keys: [KEY], user: 'alice' } : undefined) },
      peers: new PeerPolicy({ allow: ['127.0.0.1/32'] }),
      relays: new RelayPorts({ addresses: { 4: '127.0.0.1' }, minPort: 0, maxPort: 0 }),
      lifetime: { default: 600, max: 3600 },
      nonces: new NonceIssuer(randomBytes(32), 600_000),
      quotas: { perUser: 0, total: 0 },
      bandwidth: 0,
      clock: new FakeClock(),
    });
    tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    listener = new StreamListener({ server: tcp, transport: 'tcp', turn: server, firstId: 1000, maxConnections: 10, maxConnectionsPerSource: 3, idleTimeoutMs: 60_000, messageTimeoutMs: 10_000, clock });
    client = connect((tcp.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    const framer = new StunStreamFramer({
      onStun: (b) => {
        const m = parseStunMessage(new Uint8Array(b));
        if (m.ok) stun.push(m.value);
      },
      onChannelData: (channel, data) => channelData.push({ channel, data: Buffer.from(data) }),
    }, { maxChannel: 0x7fff });
    client.on('data', (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      framer.push(d);
    });
    peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  });

  afterEach(() => {
    client.destroy();
    listener.close();
    server.close();
    peer.close();
  });

  /** Write a request one byte at a time, and wait for its answer. */
  async function transact(bytes: Uint8Array): Promise<StunMessage> {
    const n = stun.length;
    for (const b of bytes) client.write(Uint8Array.of(b));
    for (let i = 0; i < 200 && stun.length === n; i++) await wait(5);
    assert.ok(stun.length > n, 'no answer');
    return stun.at(-1)!;
  }

  const code = (m: StunMessage): number => {
    const a = m.get(StunAttr.ERROR_CODE);
    if (a === undefined) return 200;
    const r = readErrorCode(a);
    return r.ok ? r.value.code : -1;
  };

  it('allocates over a stream cut at every byte, relays ChannelData both ways (padded to 4 towards the client), and releases the allocation when the connection closes', async () => {
    const challenge = await transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).build());
    assert.equal(code(challenge), 401);
    const nonce = new TextDecoder().decode(challenge.get(StunAttr.NONCE)!.value);
    const signed = (method: number, add: (b: StunMessageBuilder) => void): Uint8Array => {
      const b = new StunMessageBuilder(method, 'request', randomBytes(12));
      add(b);
      return b.addString(StunAttr.USERNAME, 'alice').addString(StunAttr.REALM, REALM).addString(StunAttr.NONCE, nonce).addMessageIntegrity(KEY).build();
    };
    const ok = await transact(signed(StunMethod.Allocate, (b) => b.add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0))));
    assert.equal(code(ok), 200);
    const peerPort = peer.address().port;
    const bound = await transact(
      signed(StunMethod.ChannelBind, (b) => b.add(StunAttr.CHANNEL_NUMBER, Uint8Array.of(0x40, 0x01, 0, 0)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, { family: 4, address: '127.0.0.1', port: peerPort })),
    );
    assert.equal(code(bound), 200);
    const got = new Promise<{ data: Buffer; port: number }>((r) => peer.once('message', (data, rinfo) => r({ data, port: rinfo.port })));
    // ChannelData from the client, padded as RFC 8656 §12.5 requires over TCP
    client.write(Uint8Array.of(0x40, 0x01, 0, 5, ...Buffer.from('hello'), 0, 0, 0));
    const toPeer = await got;
    assert.equal(toPeer.data.toString(), 'hello');
    const before = raw.length;
    peer.send(Buffer.from('abcde'), toPeer.port, '127.0.0.1');
    for (let i = 0; i < 200 && channelData.length === 0; i++) await wait(5);
    assert.deepEqual(channelData.map((c) => [c.channel, c.data.toString()]), [[0x4001, 'abcde']]);
    assert.equal(raw.length - before, 12, '4-byte header, 5 bytes of data, 3 of padding');
    assert.equal(server.allocationCount, 1);
    client.destroy();
    for (let i = 0; i < 200 && server.allocationCount > 0; i++) await wait(5);
    assert.equal(server.allocationCount, 0);
  });

  /** Allocates for the client and binds `channel` to the peer; returns nothing, asserts each step. */
  async function allocateAndBind(channel: number): Promise<void> {
    const challenge = await transact(new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).build());
    const nonce = new TextDecoder().decode(challenge.get(StunAttr.NONCE)!.value);
    const signed = (method: number, add: (b: StunMessageBuilder) => void): Uint8Array => {
      const b = new StunMessageBuilder(method, 'request', randomBytes(12));
      add(b);
      return b.addString(StunAttr.USERNAME, 'alice').addString(StunAttr.REALM, REALM).addString(StunAttr.NONCE, nonce).addMessageIntegrity(KEY).build();
    };
    assert.equal(code(await transact(signed(StunMethod.Allocate, (b) => b.add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0))))), 200);
    const bound = await transact(
      signed(StunMethod.ChannelBind, (b) => b.add(StunAttr.CHANNEL_NUMBER, Uint8Array.of(channel >> 8, channel & 255, 0, 0)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, { family: 4, address: '127.0.0.1', port: peer.address().port })),
    );
    assert.equal(code(bound), 200);
  }

  it('frames ChannelData of RFC 5766 channel numbers (0x5000-0x7FFF, as turnutils_uclient picks them) both ways', async () => {
    await allocateAndBind(0x7abc);
    const got = new Promise<{ data: Buffer; port: number }>((r) => peer.once('message', (data, rinfo) => r({ data, port: rinfo.port })));
    client.write(Uint8Array.of(0x7a, 0xbc, 0, 5, ...Buffer.from('hello'), 0, 0, 0));
    const toPeer = await got;
    assert.equal(toPeer.data.toString(), 'hello');
    peer.send(Buffer.from('back'), toPeer.port, '127.0.0.1');
    for (let i = 0; i < 200 && channelData.length === 0; i++) await wait(5);
    assert.deepEqual(channelData.map((c) => [c.channel, c.data.toString()]), [[0x7abc, 'back']]);
    assert.equal(listener.framingErrors, 0);
  });

  /** Opens a connection to the listener; resolves once it is connected, with a promise of its close. */
  async function open(): Promise<{ socket: Socket; closed: Promise<void>; isClosed: () => boolean }> {
    const socket = connect((tcp.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => {});
    let done = false;
    const closed = new Promise<void>((r) => socket.once('close', () => ((done = true), r())));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    return { socket, closed, isClosed: () => done };
  }

  it('holds at most maxConnectionsPerSource connections from one source: one more is closed at once, and a place freed is taken again', async () => {
    // the client of beforeEach is the first of 3
    const second = await open();
    const third = await open();
    const fourth = await open();
    await fourth.closed;
    assert.equal(listener.refused.perSource, 1);
    assert.equal(second.isClosed() || third.isClosed(), false);
    assert.equal(listener.connectionsFrom('127.0.0.1'), 3);
    third.socket.destroy();
    for (let i = 0; i < 200 && listener.connectionsFrom('127.0.0.1') > 2; i++) await wait(5);
    const again = await open();
    for (let i = 0; i < 200 && listener.connectionsFrom('127.0.0.1') < 3; i++) await wait(5);
    assert.equal(listener.connectionsFrom('127.0.0.1'), 3);
    assert.equal(again.isClosed(), false);
    again.socket.destroy();
    second.socket.destroy();
  });

  it('closes a connection that sends nothing within messageTimeoutMs, and one that trickles a message byte by byte, and keeps one whose messages come whole', async () => {
    client.destroy();
    const silent = await open();
    const trickle = await open();
    const good = await open();
    for (let i = 0; i < 200 && listener.size < 3; i++) await wait(5);
    const binding = new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build();
    good.socket.write(binding);
    trickle.socket.write(binding.subarray(0, 1));
    clock.advance(9_000);
    listener.tick();
    trickle.socket.write(binding.subarray(1, 2));
    await wait(50);
    assert.equal(silent.isClosed() || trickle.isClosed() || good.isClosed(), false, 'nothing late yet');
    clock.advance(2_000);
    // (the trickler's bytes keep the socket active, yet its message is late: its first byte was 11 s ago)
    trickle.socket.write(binding.subarray(2, 3));
    await wait(50);
    listener.tick();
    await silent.closed;
    await trickle.closed;
    assert.equal(listener.messageTimeouts, 2);
    assert.equal(good.isClosed(), false);
    good.socket.destroy();
  });

  it('closes a connection whose stream cannot be framed', async () => {
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    // 0b10 in the first two bits: neither STUN (0b00) nor ChannelData (0b01)
    client.write(Uint8Array.of(0x80, 0, 0, 0));
    await closed;
    assert.equal(listener.framingErrors, 1);
  });
});
