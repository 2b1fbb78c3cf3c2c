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

  beforeEach(async () => {
    stun.length = 0;
    channelData.length = 0;
    raw = Buffer.alloc(0);
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
    listener = new StreamListener({ server: tcp, transport: 'tcp', turn: server, firstId: 1000, maxConnections: 10, idleTimeoutMs: 60_000 });
    client = connect((tcp.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    const framer = new StunStreamFramer({
      onStun: (b) => {
        const m = parseStunMessage(new Uint8Array(b));
        if (m.ok) stun.push(m.value);
      },
      onChannelData: (channel, data) => channelData.push({ channel, data: Buffer.from(data) }),
    });
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

  it('closes a connection whose stream cannot be framed', async () => {
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    // 0b10 in the first two bits: neither STUN (0b00) nor ChannelData (0b01)
    client.write(Uint8Array.of(0x80, 0, 0, 0));
    await closed;
    assert.equal(listener.framingErrors, 1);
  });
});
