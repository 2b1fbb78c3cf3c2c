/**
 * SIP over UDP through the TransportLayer, on loopback: datagram → delegate, received/rport
 * tagging, response routing (RFC 3261 §18.2.2, RFC 3581 §4), CRLF keepalives, malformed and
 * oversized datagrams.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResponse, type SipRequest } from '../../sip/index.js';
import { TransportLayer } from './transport-layer.js';
import { RecordingDelegate, UdpPeer, sampleRequest, until } from './testdata/loopback.js';

describe('TransportLayer over UDP', () => {
  const delegate = new RecordingDelegate();
  const layer = new TransportLayer({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], delegate, limits: { maxMessageSize: 4000 } });
  let port = 0;

  before(async () => {
    const [info] = await layer.start();
    port = info!.port;
  });
  after(() => layer.stop());

  /** Send `text` from a fresh peer and wait until the layer has handled one more message. */
  async function roundTrip(peer: UdpPeer, text: string): Promise<{ request: SipRequest; index: number }> {
    const n = delegate.messages.length + 1;
    await peer.send(text, port);
    const r = await delegate.message(n);
    assert.ok(r.message.isRequest);
    return { request: r.message, index: n };
  }

  it('hands a request to onMessage with its flow, receiver-tagged (§18.2.1, RFC 3581 §4)', async () => {
    const peer = await UdpPeer.open();
    try {
      const { request, index } = await roundTrip(peer, sampleRequest({ viaParams: ';rport' }));
      const { flow } = delegate.messages[index - 1]!;
      assert.equal(request.method, 'OPTIONS');
      assert.deepEqual(flow, { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: peer.port, localAddress: '127.0.0.1', localPort: port });
      assert.equal(request.topVia!.received, '127.0.0.1');
      assert.equal(request.topVia!.rport, peer.port);
    } finally {
      await peer.close();
    }
  });

  it('sends a response to received:rport when the client asked for rport (RFC 3581 §4)', async () => {
    const peer = await UdpPeer.open();
    try {
      // sent-by names a port nobody listens on: only rport gets the response back to the peer
      const { request, index } = await roundTrip(peer, sampleRequest({ sentBy: 'client.invalid:25999', viaParams: ';rport' }));
      const errors: Error[] = [];
      layer.sendResponse(createResponse(request, 200), delegate.messages[index - 1]!.flow, (e) => errors.push(e));
      const text = await peer.datagram(1);
      assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
      assert.match(text, new RegExp(`;rport=${peer.port};received=127\\.0\\.0\\.1`));
      assert.deepEqual(errors, []);
    } finally {
      await peer.close();
    }
  });

  it('sends a response to received:sent-by port when rport was not asked for (§18.2.2)', async () => {
    const sender = await UdpPeer.open();
    const listener = await UdpPeer.open();
    try {
      const { request, index } = await roundTrip(sender, sampleRequest({ sentBy: `client.invalid:${listener.port}` }));
      assert.equal(request.topVia!.received, '127.0.0.1');
      layer.sendResponse(createResponse(request, 486), delegate.messages[index - 1]!.flow, (e) => assert.fail(e));
      assert.match(await listener.datagram(1), /^SIP\/2\.0 486 Busy Here\r\n/);
      assert.equal(sender.received.length, 0);
    } finally {
      await sender.close();
      await listener.close();
    }
  });

  it('sends a response to maddr:sent-by port when the Via has maddr (§18.2.2)', async () => {
    const sender = await UdpPeer.open();
    const listener = await UdpPeer.open();
    try {
      const { request, index } = await roundTrip(sender, sampleRequest({ sentBy: `client.invalid:${listener.port}`, viaParams: ';maddr=127.0.0.1;rport' }));
      layer.sendResponse(createResponse(request, 200), delegate.messages[index - 1]!.flow, (e) => assert.fail(e));
      assert.match(await listener.datagram(1), /^SIP\/2\.0 200 OK\r\n/);
      assert.equal(sender.received.length, 0, 'maddr wins over received/rport');
    } finally {
      await sender.close();
      await listener.close();
    }
  });

  it('sends a request to a UDP destination', async () => {
    const peer = await UdpPeer.open();
    try {
      const { request } = await roundTrip(peer, sampleRequest({ method: 'MESSAGE' }));
      layer.sendRequest(request, { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: peer.port }, (e) => assert.fail(e));
      assert.match(await peer.datagram(1), /^MESSAGE sip:parley@127\.0\.0\.1 SIP\/2\.0\r\n/);
    } finally {
      await peer.close();
    }
  });

  it('ignores CRLF keepalive datagrams: they never reach the parser', async () => {
    const peer = await UdpPeer.open();
    try {
      const errorsBefore = delegate.parseErrors.length;
      await peer.send('\r\n\r\n', port);
      await peer.send('\r\n', port);
      await roundTrip(peer, sampleRequest({ callId: 'after-keepalive' }));
      assert.equal(delegate.parseErrors.length, errorsBefore);
      assert.equal(delegate.messages.at(-1)!.message.callId, 'after-keepalive');
    } finally {
      await peer.close();
    }
  });

  it('reports a malformed datagram to onParseError with the partial message, and keeps serving', async () => {
    const peer = await UdpPeer.open();
    try {
      const n = delegate.parseErrors.length + 1;
      await peer.send(sampleRequest().replace(/^CSeq: .*\r\n/m, 'CSeq: abc OPTIONS\r\n'), port);
      const failure = await delegate.parseError(n);
      assert.equal(failure.error.place, 'header/CSeq');
      assert.ok(failure.partial?.isRequest, 'the start line and headers are there for a 400');
      assert.equal(failure.flow.remotePort, peer.port);
      await peer.send('\x00\x01garbage that is not SIP', port); // STUN-like first byte: dropped silently
      await peer.send('NOT SIP AT ALL\r\n\r\n', port);
      const garbage = await delegate.parseError(n + 1);
      assert.equal(garbage.partial, undefined);
      await roundTrip(peer, sampleRequest({ callId: 'after-garbage' }));
    } finally {
      await peer.close();
    }
  });

  it('reports a datagram over maxMessageSize as ERR_SIP_LIMIT, and keeps serving', async () => {
    const peer = await UdpPeer.open();
    try {
      const n = delegate.parseErrors.length + 1;
      await peer.send(sampleRequest({ body: 'x'.repeat(5000) }), port);
      const failure = await delegate.parseError(n);
      assert.equal(failure.error.code, 'ERR_SIP_LIMIT');
      await roundTrip(peer, sampleRequest({ callId: 'after-oversized' }));
    } finally {
      await peer.close();
    }
  });

  it('survives a delegate that throws', async () => {
    const peer = await UdpPeer.open();
    try {
      delegate.onReceived = () => {
        throw new Error('delegate bug');
      };
      await roundTrip(peer, sampleRequest({ callId: 'throws' }));
      delegate.onReceived = undefined;
      await roundTrip(peer, sampleRequest({ callId: 'still-serving' }));
    } finally {
      delegate.onReceived = undefined;
      await peer.close();
    }
  });

  it('fails a send it cannot make through onError (no IPv6 listener for an IPv6 destination)', async () => {
    const errors: Error[] = [];
    const req = delegate.messages[0]!.message as SipRequest;
    layer.sendRequest(req, { transport: 'udp', remoteAddress: '::1', remotePort: 5060 }, (e) => errors.push(e));
    await until(() => errors.length === 1, 'the send error');
    assert.match(errors[0]!.message, /no UDP listener can send to ::1/);
  });
});
