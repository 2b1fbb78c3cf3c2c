/**
 * ProxyCore with a media plane (media-anchor.ts) between a UDP phone (a real loopback socket)
 * and a WebSocket client (a recording SipConnection in the server's connection table, as in
 * proxy-core.test.ts): which profile each side gets, the media flag in both Record-Route entries
 * and its way back through the 200 (re-signed for the callee) to the caller's BYE, and a late
 * offer from the phone towards a browser. The media plane is a fake that records its commands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../lib/clock.js';
import type { MediaAnswerRequest, MediaControl, MediaDeleteRequest, MediaOfferRequest, MediaResult } from '../../lib/media-control.js';
import { createResponse, parseMessage, parseUri, serializeToString, type AnySipMessage, type SipRequest, type SipResponse } from '../../sip/index.js';
import { LocalIdentity } from '../core/local-identity.js';
import { SipServer } from '../sip-server.js';
import type { SipConnection } from '../transport/connection-table.js';
import type { Flow } from '../transport/flow.js';
import type { TransportError } from '../transport/transport-error.js';
import { UdpPeer, until } from '../transport/testdata/loopback.js';
import { ProxyCore } from './proxy-core.js';
import { sdpOf } from './media-anchor.js';

const WS_PORT = 8080;
const OFFER = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER = 'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';
const fromPlane = (what: string): string => `v=0\r\no=parley 1 1 IN IP4 127.0.0.1\r\ns=${what}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n`;
const text = (m: { body: Uint8Array }): string => new TextDecoder().decode(m.body);

class FakeMediaPlane implements MediaControl {
  readonly offers: MediaOfferRequest[] = [];
  readonly answers: MediaAnswerRequest[] = [];
  readonly deletes: MediaDeleteRequest[] = [];
  async offer(r: MediaOfferRequest): Promise<MediaResult> {
    this.offers.push(r);
    return { ok: true, anchored: true, sdp: fromPlane(`offer towards ${r.towards}`) };
  }
  async answer(r: MediaAnswerRequest): Promise<MediaResult> {
    this.answers.push(r);
    return { ok: true, anchored: true, sdp: fromPlane('answer') };
  }
  async delete(r: MediaDeleteRequest): Promise<void> {
    this.deletes.push(r);
  }
}

/** A WebSocket client's connection as the table sees it, recording every message sent over it. */
class RecordingConnection implements SipConnection {
  readonly transport = 'ws' as const;
  readonly direction = 'inbound' as const;
  readonly localAddress = '127.0.0.1';
  readonly localPort = WS_PORT;
  readonly remoteAddress = '127.0.0.1';
  isOpen = true;
  readonly sent: AnySipMessage[] = [];
  constructor(
    readonly id: number,
    readonly remotePort: number,
  ) {}
  send(bytes: Uint8Array, _onError?: (error: TransportError) => void): void {
    const r = parseMessage(bytes);
    if (r.ok) this.sent.push(r.message);
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
  requests(callId: string): SipRequest[] {
    return this.sent.filter((m): m is SipRequest => m.isRequest && m.callId === callId);
  }
  responses(callId: string): SipResponse[] {
    return this.sent.filter((m): m is SipResponse => !m.isRequest && m.callId === callId);
  }
}

function parse(textMessage: string): AnySipMessage {
  const r = parseMessage(textMessage);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.message;
}

describe('ProxyCore with a media plane: a UDP phone and a WebSocket client', () => {
  let server: SipServer;
  let proxy: ProxyCore;
  let udpPort: number;
  let phone: UdpPeer;
  let browser: RecordingConnection;
  let phoneFlow: Flow;
  const media = new FakeMediaPlane();
  const noDns = { naptr: async () => [], srv: async () => [], addresses: async () => [] };

  before(async () => {
    server = new SipServer({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] });
    const [udp] = await server.start();
    udpPort = udp!.port;
    const identity = new LocalIdentity([udp!, { transport: 'ws', address: '127.0.0.1', port: WS_PORT }], { domains: ['example.com'] });
    proxy = new ProxyCore(server, identity, { clock: systemClock, dns: noDns, media });
    phone = await UdpPeer.open();
    phoneFlow = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: phone.port, localAddress: '127.0.0.1', localPort: udpPort };
    const table = server.transports!.connections;
    browser = new RecordingConnection(table.allocateId(), 40001);
    table.add(browser);
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

  it('phone → browser: offered towards webrtc, both Record-Route entries flagged; the 200 answered; the phone\'s BYE along the route deletes the call', async () => {
    const invite = parse(
      [
        'INVITE sip:bob@example.com SIP/2.0',
        `Via: SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bKphone1;rport`,
        'Max-Forwards: 70',
        'From: <sip:alice@example.com>;tag=a1',
        'To: <sip:bob@example.com>',
        'Call-ID: pm-1',
        'CSeq: 1 INVITE',
        `Contact: <sip:alice@127.0.0.1:${phone.port}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${OFFER.length}`,
        '',
        OFFER,
      ].join('\r\n'),
    ) as SipRequest;
    proxy.forward(invite, receive(invite, phoneFlow), [{ uri: parseUri('sip:bob@b.invalid;transport=ws'), q: 1, flow: browser.flow() }], { media: 'auto', recordRoute: false });
    await until(() => browser.requests('pm-1').length === 1, 'the INVITE over the WebSocket');
    const sent = browser.requests('pm-1')[0]!;
    assert.deepEqual(media.offers.map((o) => [o.towards, o.source]), [['webrtc', { transport: 'udp', address: '127.0.0.1', port: phone.port }]]);
    assert.equal(text(sent), fromPlane('offer towards webrtc'));
    const rr = sent.getAll('record-route');
    assert.equal(rr.length, 2, 'record-routed (double: WebSocket and UDP) though not asked');
    for (const entry of rr) assert.match(entry, /;lr;media;rrsig=/);

    // the browser answers; a UAS copies Record-Route into its 2xx (§12.1.1)
    const ok = createResponse(sent, 200, { toTag: 'b1', headers: [...rr.map((v) => ['Record-Route', v] as const), ['Contact', '<sip:bob@b.invalid;transport=ws>'], ['Content-Type', 'application/sdp']], body: new TextEncoder().encode(ANSWER) });
    server.transactions.receiveResponse(parse(serializeToString(ok)) as SipResponse);
    const upstream = parse(await phone.datagram(1)) as SipResponse;
    assert.equal(upstream.status, 200);
    assert.equal(text(upstream), fromPlane('answer'));
    assert.deepEqual(media.answers, [{ callId: 'pm-1', fromTag: 'a1', toTag: 'b1', branch: sent.topVia!.branch!, sdp: ANSWER, source: { transport: 'ws', address: '127.0.0.1', port: 40001 } }]);

    // the phone's route set: the 200's Record-Route reversed (§12.1.2), re-signed for the browser
    const route = [...upstream.getAll('record-route')].reverse();
    const bye = parse(
      [
        'BYE sip:bob@b.invalid;transport=ws SIP/2.0',
        `Via: SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bKphone2;rport`,
        'Max-Forwards: 70',
        ...route.map((r) => `Route: ${r}`),
        'From: <sip:alice@example.com>;tag=a1',
        'To: <sip:bob@example.com>;tag=b1',
        'Call-ID: pm-1',
        'CSeq: 2 BYE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ) as SipRequest;
    assert.equal(proxy.processRoute(bye, phoneFlow), 'signed');
    proxy.relay(bye, receive(bye, phoneFlow));
    await until(() => browser.requests('pm-1').some((r) => r.method === 'BYE'), 'the BYE over the WebSocket');
    assert.deepEqual(media.deletes, [{ callId: 'pm-1', reason: 'bye' }]);
  });

  it('browser → phone without an offer: the phone\'s 200 is offered towards the browser (webrtc) and reaches it rewritten', async () => {
    const invite = parse(
      [
        'INVITE sip:phone@example.com SIP/2.0',
        'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKbrowser1',
        'Max-Forwards: 70',
        'From: <sip:bob@example.com>;tag=b2',
        'To: <sip:phone@example.com>',
        'Call-ID: pm-2',
        'CSeq: 1 INVITE',
        'Contact: <sip:bob@df7jal23ls0d.invalid;transport=ws>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ) as SipRequest;
    const before = phone.received.length;
    proxy.forward(invite, receive(invite, browser.flow()), [{ uri: parseUri(`sip:phone@127.0.0.1:${phone.port}`), q: 1 }], { media: 'auto' });
    const atPhone = parse(await phone.datagram(before + 1)) as SipRequest;
    assert.equal(atPhone.bodyLength, 0);
    assert.match(atPhone.get('record-route')!, /;media/);
    const ok = createResponse(atPhone, 200, { toTag: 'p2', headers: [['Contact', `<sip:phone@127.0.0.1:${phone.port}>`], ['Content-Type', 'application/sdp']], body: new TextEncoder().encode(OFFER) });
    await phone.send(serializeToString(ok), udpPort);
    await until(() => browser.responses('pm-2').some((r) => r.status === 200), 'the 200 over the WebSocket');
    const offer = media.offers.find((o) => o.callId === 'pm-2');
    assert.deepEqual(offer, { callId: 'pm-2', fromTag: 'p2', branch: atPhone.topVia!.branch!, sdp: OFFER, source: { transport: 'udp', address: '127.0.0.1', port: phone.port }, towards: 'webrtc', mode: 'auto' });
    assert.equal(text(browser.responses('pm-2').find((r) => r.status === 200)!), fromPlane('offer towards webrtc'));
  });
});

describe('sdpOf: which bodies are SDP', () => {
  const message = (headers: string[], body: string): AnySipMessage =>
    parse(['OPTIONS sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1', 'From: <sip:a@example.com>;tag=1', 'To: <sip:x@example.com>', 'Call-ID: s', 'CSeq: 1 OPTIONS', ...headers, `Content-Length: ${body.length}`, '', body].join('\r\n'));

  it('application/sdp in any case and with parameters; not multipart, not encoded, not without a type, not a type that does not parse, not empty', () => {
    assert.equal(sdpOf(message(['Content-Type: Application/SDP'], OFFER)), OFFER);
    assert.equal(sdpOf(message(['Content-Type: application/sdp;charset=utf-8'], OFFER)), OFFER);
    assert.equal(sdpOf(message(['Content-Type: multipart/mixed;boundary=x'], OFFER)), undefined);
    assert.equal(sdpOf(message(['Content-Type: application/sdp', 'Content-Encoding: gzip'], OFFER)), undefined);
    assert.equal(sdpOf(message([], OFFER)), undefined);
    assert.equal(sdpOf(message(['Content-Type: application/'], OFFER)), undefined);
    assert.equal(sdpOf(message(['Content-Type: application/sdp'], '')), undefined);
  });
});
