/**
 * ProxyCore with WebSocket clients: the Record-Route entry facing a WebSocket carries a flow
 * token (RFC 5626 §5.2), and in-dialog requests and ACKs coming back along the route leave over
 * that connection (§5.3), or get 430 when it has closed. The WebSocket side is a recording
 * SipConnection in the server's connection table; the UDP side is a real loopback socket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../lib/clock.js';
import { parseMessage, parseUri, type SipRequest } from '../../sip/index.js';
import { LocalIdentity } from '../core/local-identity.js';
import { SipServer } from '../sip-server.js';
import type { SipConnection } from '../transport/connection-table.js';
import type { Flow } from '../transport/flow.js';
import type { TransportError } from '../transport/transport-error.js';
import { UdpPeer, until } from '../transport/testdata/loopback.js';
import { FlowTokens } from './flow-token.js';
import { ProxyCore } from './proxy-core.js';

const SECRET = Buffer.alloc(32, 3);
const WS_PORT = 8080;
const tokens = new FlowTokens(SECRET);

/** A WebSocket client's connection as the table sees it, recording what is sent over it. */
class RecordingConnection implements SipConnection {
  readonly transport = 'ws' as const;
  readonly direction = 'inbound' as const;
  readonly localAddress = '127.0.0.1';
  readonly localPort = WS_PORT;
  readonly remoteAddress = '127.0.0.1';
  isOpen = true;
  readonly sent: SipRequest[] = [];
  constructor(
    readonly id: number,
    readonly remotePort: number,
  ) {}
  send(bytes: Uint8Array, _onError?: (error: TransportError) => void): void {
    const r = parseMessage(bytes);
    if (r.ok && r.message.isRequest) this.sent.push(r.message as SipRequest);
  }
  close(): void {
    this.isOpen = false;
  }
  destroy(): void {
    this.isOpen = false;
  }
  flow(): Flow {
    return { transport: 'ws', remoteAddress: this.remoteAddress, remotePort: this.remotePort, localAddress: this.localAddress, localPort: this.localPort, connectionId: this.id };
  }
}

let branches = 0;
/** The UDP phone's Via (set once its socket is bound): responses go back to it (§18.2.2). */
let phoneVia = 'SIP/2.0/UDP 127.0.0.1:5999';
function request(method: string, ruri: string, o: { routes?: string[]; callId: string; toTag?: string; via?: string }): SipRequest {
  const lines = [
    `${method} ${ruri} SIP/2.0`,
    `Via: ${o.via ?? phoneVia};branch=z9hG4bKtest${++branches}`,
    'Max-Forwards: 70',
    ...(o.routes ?? []).map((r) => `Route: ${r}`),
    `From: <sip:alice@example.com>;tag=a1`,
    `To: <sip:bob@example.com>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${method === 'ACK' ? 1 : 2} ${method}`,
    'Contact: <sip:alice@127.0.0.1:5999>',
    'Content-Length: 0',
    '',
    '',
  ];
  const r = parseMessage(lines.join('\r\n'));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.message as SipRequest;
}

describe('ProxyCore: flow tokens towards WebSocket clients (RFC 5626 §5.2, §5.3)', () => {
  let server: SipServer;
  let proxy: ProxyCore;
  let udpPort: number;
  let phone: UdpPeer;
  let bob: RecordingConnection;
  let carol: RecordingConnection;
  let phoneFlow: Flow;
  const noDns = { naptr: async () => [], srv: async () => [], addresses: async () => [] };

  before(async () => {
    server = new SipServer({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] });
    const [udp] = await server.start();
    udpPort = udp!.port;
    const identity = new LocalIdentity([udp!, { transport: 'ws', address: '127.0.0.1', port: WS_PORT }], { domains: ['example.com'] });
    proxy = new ProxyCore(server, identity, { clock: systemClock, flowTokenSecret: SECRET, dns: noDns });
    phone = await UdpPeer.open();
    phoneVia = `SIP/2.0/UDP 127.0.0.1:${phone.port}`;
    phoneFlow = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: phone.port, localAddress: '127.0.0.1', localPort: udpPort };
    const table = server.transports.connections;
    bob = new RecordingConnection(table.allocateId(), 40001);
    carol = new RecordingConnection(table.allocateId(), 40002);
    table.add(bob);
    table.add(carol);
  });
  after(async () => {
    await server.stop();
    await phone.close();
  });

  function receive(r: SipRequest, source: Flow) {
    const got = server.transactions.receiveRequest(r, source);
    assert.equal(got.kind, 'new');
    return got.tx!;
  }

  const ourUdp = (): string => `<sip:127.0.0.1:${udpPort};lr>`;
  const ourWs = (c: RecordingConnection): string => `<sip:${tokens.encode(c.id)}@127.0.0.1:${WS_PORT};transport=ws;lr>`;

  it('an INVITE from UDP to a WebSocket client gets two Record-Route entries, the WebSocket one with its flow token', async () => {
    const invite = request('INVITE', 'sip:bob@example.com', { callId: 'rr-1' });
    proxy.forward(invite, receive(invite, phoneFlow), [{ uri: parseUri('sip:bob@df7jal23ls0d.invalid;transport=ws'), q: 1, flow: bob.flow() }]);
    await until(() => bob.sent.length === 1, 'the INVITE over the WebSocket');
    const sent = bob.sent[0]!;
    assert.deepEqual(sent.getAll('record-route'), [ourWs(bob), ourUdp()]);
    assert.equal(tokens.decode(sent.recordRoute[0]!.uri.kind === 'sip' ? sent.recordRoute[0]!.uri.user : undefined), bob.id);
    assert.match(sent.get('via')!, new RegExp(`^SIP/2\\.0/WS 127\\.0\\.0\\.1:${WS_PORT};branch=`));
  });

  it('an INVITE between two WebSocket clients gets two entries too, one token each', async () => {
    const invite = request('INVITE', 'sip:carol@example.com', { callId: 'rr-2', via: 'SIP/2.0/WSS bob.invalid' });
    proxy.forward(invite, receive(invite, bob.flow()), [{ uri: parseUri('sip:carol@c.invalid;transport=ws'), q: 1, flow: carol.flow() }]);
    await until(() => carol.sent.length === 1, 'the INVITE to carol');
    assert.deepEqual(carol.sent[0]!.getAll('record-route'), [ourWs(carol), ourWs(bob)]);
  });

  it('a BYE from the UDP side follows the token of its last Route of ours to the WebSocket', async () => {
    const bye = request('BYE', 'sip:bob@df7jal23ls0d.invalid;transport=ws', { routes: [ourUdp(), ourWs(bob)], callId: 'in-dialog-1', toTag: 'b1' });
    assert.equal(proxy.processRoute(bye, phoneFlow), true);
    proxy.relay(bye, receive(bye, phoneFlow));
    await until(() => bob.sent.some((r) => r.callId === 'in-dialog-1'), 'the BYE over the WebSocket');
    const sent = bob.sent.find((r) => r.callId === 'in-dialog-1')!;
    assert.equal(sent.method, 'BYE');
    assert.deepEqual(sent.getAll('route'), [], 'our Route values consumed');
    assert.equal(sent.getAll('record-route').length, 0, 'no Record-Route in-dialog');
  });

  it('an ACK for a 2xx from the UDP side goes over the WebSocket too', async () => {
    const ack = request('ACK', 'sip:bob@df7jal23ls0d.invalid;transport=ws', { routes: [ourUdp(), ourWs(bob)], callId: 'in-dialog-ack', toTag: 'b1' });
    assert.equal(proxy.processRoute(ack, phoneFlow), true);
    proxy.forwardAck(ack);
    await until(() => bob.sent.some((r) => r.callId === 'in-dialog-ack' && r.method === 'ACK'), 'the ACK over the WebSocket');
  });

  it('a BYE from the WebSocket client itself is routed on by its Request-URI (its own token comes first)', async () => {
    const bye = request('BYE', `sip:alice@127.0.0.1:${phone.port}`, { routes: [ourWs(bob), ourUdp()], callId: 'in-dialog-2', toTag: 'b1', via: 'SIP/2.0/WSS df7jal23ls0d.invalid' });
    const sentBefore = bob.sent.length;
    assert.equal(proxy.processRoute(bye, bob.flow()), true);
    proxy.relay(bye, receive(bye, bob.flow()));
    const text = await phone.datagram(1);
    assert.match(text, /^BYE sip:alice@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    assert.match(text, /Call-ID: in-dialog-2\r\n/);
    assert.equal(bob.sent.length, sentBefore);
  });

  it('answers 430 (Flow Failed) when the token names a connection that has closed', async () => {
    const gone = new RecordingConnection(server.transports.connections.allocateId(), 40003);
    server.transports.connections.add(gone);
    server.transports.connections.remove(gone, 'closed by the test');
    const bye = request('BYE', 'sip:dave@d.invalid;transport=ws', { routes: [ourUdp(), ourWs(gone)], callId: 'in-dialog-3', toTag: 'd1' });
    proxy.processRoute(bye, phoneFlow);
    proxy.relay(bye, receive(bye, phoneFlow));
    await until(() => phone.received.some((d) => /^SIP\/2\.0 430 Flow Failed\r\n/.test(d.toString()) && d.toString().includes('in-dialog-3')), 'the 430');
    assert.equal(gone.sent.length, 0);
  });

  it('ignores a forged token: nothing goes over the connection it claims', async () => {
    const forged = `<sip:fl${bob.id}-0123456789abcdef@127.0.0.1:${WS_PORT};transport=ws;lr>`;
    const bye = request('BYE', 'sip:bob@df7jal23ls0d.invalid;transport=ws', { routes: [ourUdp(), forged], callId: 'in-dialog-4', toTag: 'b1' });
    const sentBefore = bob.sent.length;
    proxy.processRoute(bye, phoneFlow);
    proxy.relay(bye, receive(bye, phoneFlow));
    // the .invalid Request-URI does not resolve: the branch fails with 503, sent upstream as 500 (§16.7 step 6)
    await until(() => phone.received.some((d) => /^SIP\/2\.0 500 /.test(d.toString()) && d.toString().includes('in-dialog-4')), 'the 500');
    assert.equal(bob.sent.length, sentBefore);
  });
});
