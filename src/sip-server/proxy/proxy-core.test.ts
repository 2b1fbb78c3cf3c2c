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
import { RouteSignature, routeTarget } from './route-signature.js';

const SECRET = Buffer.alloc(32, 3);
const ROUTE_SECRET = Buffer.alloc(32, 4);
const WS_PORT = 8080;
const tokens = new FlowTokens(SECRET);
const signatures = new RouteSignature(ROUTE_SECRET);
/** alice's Contact in the requests below: where the callee's requests in her dialogs go. */
const CALLER = 'sip:alice@127.0.0.1:5999';
/**
 * The `;rrsig=` Parley puts in its Record-Route for a dialog-creating request from alice (From
 * tag a1), good for the dialog's requests to `target` (by default alice's Contact).
 */
const rrsig = (callId: string, fromTag = 'a1', target = CALLER): string => `;rrsig=${signatures.sign(callId, fromTag, routeTarget(parseUri(target)))}`;

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
function request(method: string, ruri: string, o: { routes?: string[]; callId: string; toTag?: string; via?: string; fromTag?: string; swapped?: boolean }): SipRequest {
  // a request from the callee (swapped) has bob in From with his tag, alice in To with hers
  const alice = `<sip:alice@example.com>;tag=${o.fromTag ?? 'a1'}`;
  const bob = `<sip:bob@example.com>${o.toTag ? `;tag=${o.toTag}` : ''}`;
  const lines = [
    `${method} ${ruri} SIP/2.0`,
    `Via: ${o.via ?? phoneVia};branch=z9hG4bKtest${++branches}`,
    'Max-Forwards: 70',
    ...(o.routes ?? []).map((r) => `Route: ${r}`),
    `From: ${o.swapped ? bob : alice}`,
    `To: ${o.swapped ? alice : bob}`,
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
    proxy = new ProxyCore(server, identity, { clock: systemClock, flowTokenSecret: SECRET, routeSecret: ROUTE_SECRET, dns: noDns });
    phone = await UdpPeer.open();
    phoneVia = `SIP/2.0/UDP 127.0.0.1:${phone.port}`;
    phoneFlow = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: phone.port, localAddress: '127.0.0.1', localPort: udpPort };
    const table = server.transports!.connections;
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

  const ourUdp = (callId: string, target = CALLER): string => `<sip:127.0.0.1:${udpPort};lr${rrsig(callId, 'a1', target)}>`;
  const ourWs = (c: RecordingConnection, callId: string, target = CALLER): string => `<sip:${tokens.encode(c.id)}@127.0.0.1:${WS_PORT};transport=ws;lr${rrsig(callId, 'a1', target)}>`;

  it('an INVITE from UDP to a WebSocket client gets two Record-Route entries, the WebSocket one with its flow token', async () => {
    const invite = request('INVITE', 'sip:bob@example.com', { callId: 'rr-1' });
    proxy.forward(invite, receive(invite, phoneFlow), [{ uri: parseUri('sip:bob@df7jal23ls0d.invalid;transport=ws'), q: 1, flow: bob.flow() }]);
    await until(() => bob.sent.length === 1, 'the INVITE over the WebSocket');
    const sent = bob.sent[0]!;
    assert.deepEqual(sent.getAll('record-route'), [ourWs(bob, 'rr-1'), ourUdp('rr-1')]);
    assert.equal(tokens.decode(sent.recordRoute[0]!.uri.kind === 'sip' ? sent.recordRoute[0]!.uri.user : undefined), bob.id);
    assert.match(sent.get('via')!, new RegExp(`^SIP/2\\.0/WS 127\\.0\\.0\\.1:${WS_PORT};branch=`));
  });

  it('an INVITE between two WebSocket clients gets two entries too, one token each', async () => {
    const invite = request('INVITE', 'sip:carol@example.com', { callId: 'rr-2', via: 'SIP/2.0/WSS bob.invalid' });
    proxy.forward(invite, receive(invite, bob.flow()), [{ uri: parseUri('sip:carol@c.invalid;transport=ws'), q: 1, flow: carol.flow() }]);
    await until(() => carol.sent.length === 1, 'the INVITE to carol');
    assert.deepEqual(carol.sent[0]!.getAll('record-route'), [ourWs(carol, 'rr-2'), ourWs(bob, 'rr-2')]);
  });

  it('a BYE from the UDP side follows the token of its last Route of ours to the WebSocket', async () => {
    const bye = request('BYE', 'sip:bob@df7jal23ls0d.invalid;transport=ws', { routes: [ourUdp('in-dialog-1', 'sip:bob@df7jal23ls0d.invalid;transport=ws'), ourWs(bob, 'in-dialog-1', 'sip:bob@df7jal23ls0d.invalid;transport=ws')], callId: 'in-dialog-1', toTag: 'b1' });
    assert.equal(proxy.processRoute(bye, phoneFlow), 'signed');
    proxy.relay(bye, receive(bye, phoneFlow));
    await until(() => bob.sent.some((r) => r.callId === 'in-dialog-1'), 'the BYE over the WebSocket');
    const sent = bob.sent.find((r) => r.callId === 'in-dialog-1')!;
    assert.equal(sent.method, 'BYE');
    assert.deepEqual(sent.getAll('route'), [], 'our Route values consumed');
    assert.equal(sent.getAll('record-route').length, 0, 'no Record-Route in-dialog');
  });

  it('an ACK for a 2xx from the UDP side goes over the WebSocket too', async () => {
    const ack = request('ACK', 'sip:bob@df7jal23ls0d.invalid;transport=ws', { routes: [ourUdp('in-dialog-ack', 'sip:bob@df7jal23ls0d.invalid;transport=ws'), ourWs(bob, 'in-dialog-ack', 'sip:bob@df7jal23ls0d.invalid;transport=ws')], callId: 'in-dialog-ack', toTag: 'b1' });
    assert.equal(proxy.processRoute(ack, phoneFlow), 'signed');
    proxy.forwardAck(ack);
    await until(() => bob.sent.some((r) => r.callId === 'in-dialog-ack' && r.method === 'ACK'), 'the ACK over the WebSocket');
  });

  it('a BYE from the WebSocket client itself is routed on by its Request-URI (its own token comes first)', async () => {
    // bob, the callee, sends it: his tag in From, alice's (the one signed) in To
    const bye = request('BYE', `sip:alice@127.0.0.1:${phone.port}`, { routes: [ourWs(bob, 'in-dialog-2', `sip:alice@127.0.0.1:${phone.port}`), ourUdp('in-dialog-2', `sip:alice@127.0.0.1:${phone.port}`)], callId: 'in-dialog-2', toTag: 'b1', swapped: true, via: 'SIP/2.0/WSS df7jal23ls0d.invalid' });
    const sentBefore = bob.sent.length;
    assert.equal(proxy.processRoute(bye, bob.flow()), 'signed');
    proxy.relay(bye, receive(bye, bob.flow()));
    const text = await phone.datagram(1);
    assert.match(text, /^BYE sip:alice@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    assert.match(text, /Call-ID: in-dialog-2\r\n/);
    assert.equal(bob.sent.length, sentBefore);
  });

  it('answers 430 (Flow Failed) when the token names a connection that has closed', async () => {
    const gone = new RecordingConnection(server.transports!.connections.allocateId(), 40003);
    server.transports!.connections.add(gone);
    server.transports!.connections.remove(gone, 'closed by the test');
    const bye = request('BYE', 'sip:dave@d.invalid;transport=ws', { routes: [ourUdp('in-dialog-3', 'sip:dave@d.invalid;transport=ws'), ourWs(gone, 'in-dialog-3', 'sip:dave@d.invalid;transport=ws')], callId: 'in-dialog-3', toTag: 'd1' });
    proxy.processRoute(bye, phoneFlow);
    proxy.relay(bye, receive(bye, phoneFlow));
    await until(() => phone.received.some((d) => /^SIP\/2\.0 430 Flow Failed\r\n/.test(d.toString()) && d.toString().includes('in-dialog-3')), 'the 430');
    assert.equal(gone.sent.length, 0);
  });

  it('ignores a forged token: nothing goes over the connection it claims', async () => {
    const forged = `<sip:fl${bob.id}-0123456789abcdef@127.0.0.1:${WS_PORT};transport=ws;lr${rrsig('in-dialog-4', 'a1', 'sip:bob@df7jal23ls0d.invalid;transport=ws')}>`;
    const bye = request('BYE', 'sip:bob@df7jal23ls0d.invalid;transport=ws', { routes: [ourUdp('in-dialog-4', 'sip:bob@df7jal23ls0d.invalid;transport=ws'), forged], callId: 'in-dialog-4', toTag: 'b1' });
    const sentBefore = bob.sent.length;
    proxy.processRoute(bye, phoneFlow);
    proxy.relay(bye, receive(bye, phoneFlow));
    // the .invalid Request-URI does not resolve: the branch fails with 503, sent upstream as 500 (§16.7 step 6)
    await until(() => phone.received.some((d) => /^SIP\/2\.0 500 /.test(d.toString()) && d.toString().includes('in-dialog-4')), 'the 500');
    assert.equal(bob.sent.length, sentBefore);
  });

  describe('processRoute: was the route recorded by Parley for this dialog? (the signature of its Record-Route)', () => {
    const bobUri = 'sip:bob@198.51.100.7:5062';
    it('signed: a request from the caller (its From tag signed), and from the callee (tags swapped)', () => {
      assert.equal(proxy.processRoute(request('BYE', bobUri, { routes: [ourUdp('d-1', bobUri)], callId: 'd-1', toTag: 'b1' }), phoneFlow), 'signed');
      assert.equal(proxy.processRoute(request('BYE', bobUri, { routes: [ourUdp('d-1', bobUri)], callId: 'd-1', toTag: 'b1', swapped: true }), phoneFlow), 'signed');
      // forking: another callee's dialog of the same INVITE (another To tag) has the same route
      assert.equal(proxy.processRoute(request('BYE', bobUri, { routes: [ourUdp('d-1', bobUri)], callId: 'd-1', toTag: 'other-fork' }), phoneFlow), 'signed');
    });

    it('none: no Route value names Parley (only other proxies\' are left as they are)', () => {
      const r = request('BYE', bobUri, { routes: ['<sip:198.51.100.9;lr>'], callId: 'd-2', toTag: 'b1' });
      assert.equal(proxy.processRoute(r, phoneFlow), 'none');
      assert.equal(r.getAll('route').length, 1);
    });

    it('unsigned: our address without a signature (written by hand, or a preloaded Route); removed all the same (§16.4)', () => {
      const r = request('BYE', bobUri, { routes: [`<sip:127.0.0.1:${udpPort};lr>`], callId: 'd-3', toTag: 'b1' });
      assert.equal(proxy.processRoute(r, phoneFlow), 'unsigned');
      assert.deepEqual(r.getAll('route'), []);
    });

    it('invalid: a made-up, cut, lengthened or empty signature', () => {
      const good = signatures.sign('d-4', 'a1', routeTarget(parseUri(bobUri)));
      for (const sig of ['000000000000000000000000', good.slice(0, -2), `${good}00`, '', 'zz' + good.slice(2)]) {
        const r = request('BYE', bobUri, { routes: [`<sip:127.0.0.1:${udpPort};lr;rrsig=${sig}>`], callId: 'd-4', toTag: 'b1' });
        assert.equal(proxy.processRoute(r, phoneFlow), 'invalid', sig);
      }
      const bare = request('BYE', bobUri, { routes: [`<sip:127.0.0.1:${udpPort};lr;rrsig>`], callId: 'd-4', toTag: 'b1' });
      assert.equal(proxy.processRoute(bare, phoneFlow), 'invalid');
    });

    it('invalid: a route recorded for another Call-ID (replayed), or for this Call-ID with other tags (another dialog)', () => {
      assert.equal(proxy.processRoute(request('MESSAGE', bobUri, { routes: [ourUdp('d-5', bobUri)], callId: 'd-5-replayed', toTag: 'b1' }), phoneFlow), 'invalid');
      assert.equal(proxy.processRoute(request('MESSAGE', bobUri, { routes: [ourUdp('d-5', bobUri)], callId: 'd-5', fromTag: 'mallory', toTag: 'b1' }), phoneFlow), 'invalid');
    });

    it('invalid: one of two entries of ours unsigned, or signed for another dialog', () => {
      const unsignedWs = `<sip:${tokens.encode(bob.id)}@127.0.0.1:${WS_PORT};transport=ws;lr>`;
      assert.equal(proxy.processRoute(request('BYE', bobUri, { routes: [ourUdp('d-6', bobUri), unsignedWs], callId: 'd-6', toTag: 'b1' }), phoneFlow), 'invalid');
      assert.equal(proxy.processRoute(request('BYE', bobUri, { routes: [ourUdp('d-6', bobUri), ourWs(bob, 'd-7', bobUri)], callId: 'd-6', toTag: 'b1' }), phoneFlow), 'invalid');
      assert.equal(proxy.processRoute(request('BYE', bobUri, { routes: [ourUdp('d-6', bobUri), ourWs(bob, 'd-6', bobUri)], callId: 'd-6', toTag: 'b1' }), phoneFlow), 'signed');
    });

    it('signed: an unsigned Route of ours in front of the signed ones (a phone with Parley as its outbound proxy preloads it)', () => {
      const preloaded = `<sip:127.0.0.1:${udpPort};lr>`;
      const r = request('BYE', bobUri, { routes: [preloaded, ourUdp('d-9', bobUri)], callId: 'd-9', toTag: 'b1' });
      assert.equal(proxy.processRoute(r, phoneFlow), 'signed');
      assert.deepEqual(r.getAll('route'), []);
      // in front of another dialog's signed entry it changes nothing
      assert.equal(proxy.processRoute(request('BYE', bobUri, { routes: [preloaded, ourUdp('d-10', bobUri)], callId: 'd-9', toTag: 'b1' }), phoneFlow), 'invalid');
    });

    it('thousands of Route values naming Parley are removed in one pass (the Route list parsed once, not once per value)', () => {
      // a 48 kB in-dialog request with 1,920 of them took 855 ms of a worker: the list was parsed
      // again and the first field split again for each value removed (quadratic)
      const own = `<sip:127.0.0.1:${udpPort};lr>`;
      const line = Array(640).fill(own).join(',');
      const r = request('MESSAGE', 'sip:victim@203.0.113.66', { routes: [line, line, line, `<sip:198.51.100.9;lr>, ${own}`], callId: 'd-many', toTag: 'b1' });
      let parses = 0;
      const getter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Object.getPrototypeOf(r)), 'route')!.get!;
      Object.defineProperty(r, 'route', { get: () => (parses++, getter.call(r)) });
      assert.equal(proxy.processRoute(r, phoneFlow), 'unsigned');
      assert.ok(parses <= 2, `the Route list was parsed ${parses} times`);
      // only the values naming Parley at the top went; the rest is as it was, in order
      assert.deepEqual(r.list('route'), ['<sip:198.51.100.9;lr>', own]);
    });

    it('a strict router before us: the signature in the Request-URI is checked too', () => {
      const ours = `sip:127.0.0.1:${udpPort};lr${rrsig('d-8', 'a1', bobUri)}`;
      const r = request('BYE', ours, { routes: [`<${bobUri}>`], callId: 'd-8', toTag: 'b1' });
      assert.equal(proxy.processRoute(r, phoneFlow), 'signed');
      assert.equal(r.uri, bobUri);
      const forged = request('BYE', `sip:127.0.0.1:${udpPort};lr;rrsig=000000000000000000000000`, { routes: [`<${bobUri}>`], callId: 'd-8', toTag: 'b1' });
      assert.equal(proxy.processRoute(forged, phoneFlow), 'invalid');
    });

    it('an INVITE that is record-routed gets a signature that verifies for its dialog', async () => {
      const invite = request('INVITE', 'sip:bob@example.com', { callId: 'rr-sig' });
      proxy.forward(invite, receive(invite, phoneFlow), [{ uri: parseUri('sip:bob@x.invalid;transport=ws'), q: 1, flow: bob.flow() }]);
      await until(() => bob.sent.some((r) => r.callId === 'rr-sig'), 'the INVITE');
      const rr = bob.sent.find((r) => r.callId === 'rr-sig')!.recordRoute;
      assert.equal(rr.length, 2);
      for (const entry of rr) {
        const sig = entry.uri.kind === 'sip' ? entry.uri.param('rrsig') : undefined;
        assert.ok(typeof sig === 'string' && signatures.verify(sig, 'rr-sig', 'b1', 'a1', routeTarget(parseUri(CALLER))), entry.toString());
      }
    });
  });
});
