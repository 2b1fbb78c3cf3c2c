/**
 * The TransportLayer as a whole: several listeners at once, IPv6, listener logging, start
 * failures, connection table events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResponse, type SipRequest } from '../../sip/index.js';
import type { Flow as TransactionFlow, TransactionTransport } from '../../sip/transaction/transaction-transport.js';
import type { Flow } from './flow.js';
import { TransportLayer } from './transport-layer.js';

// Compile-time check: the transport layer is what the transaction layer expects, and the two
// Flow shapes are interchangeable (to be unified into one definition).
type Assignable<A, B> = A extends B ? true : false;
const shapesAgree: [Assignable<TransportLayer, TransactionTransport>, Assignable<Flow, TransactionFlow>, Assignable<TransactionFlow, Flow>] = [true, true, true];
void shapesAgree;
import { RecordingDelegate, RecordingLogger, StreamPeer, UdpPeer, hasIPv6Loopback, sampleRequest, until, within } from './testdata/loopback.js';

describe('TransportLayer with several listeners', () => {
  const delegate = new RecordingDelegate();
  const log = new RecordingLogger();
  const layer = new TransportLayer({
    listeners: [
      { transport: 'udp', address: '127.0.0.1', port: 0 },
      { transport: 'tcp', address: '127.0.0.1', port: 0 },
      { transport: 'udp', address: '127.0.0.1', port: 0 },
    ],
    delegate,
    log,
  });

  before(() => layer.start());
  after(() => layer.stop());

  it('logs each listener with its transport, address and bound port', () => {
    assert.equal(layer.listeners.length, 3);
    for (const l of layer.listeners) {
      assert.ok(l.port > 0);
      assert.ok(
        log.lines.some((line) => line.level === 'info' && JSON.stringify(line.obj) === JSON.stringify({ transport: l.transport, address: l.address, port: l.port })),
        `logged ${l.transport} ${l.address}:${l.port}`,
      );
    }
  });

  it('answers from the UDP listener the request came in on (RFC 3581 §4)', async () => {
    const second = layer.listeners[2]!;
    assert.notEqual(second.port, layer.listeners[0]!.port);
    const peer = await UdpPeer.open();
    try {
      await peer.send(sampleRequest({ viaParams: ';rport' }), second.port, second.address);
      const { message, flow } = await delegate.message(delegate.messages.length + 1);
      assert.equal(flow.localPort, second.port);
      const from = new Promise<{ address: string; port: number }>((resolve) => peer.socket.once('message', (_m, rinfo) => resolve(rinfo)));
      layer.sendResponse(createResponse(message as SipRequest, 200), flow, (e) => assert.fail(e));
      const rinfo = await within(from, 'the response');
      assert.equal(rinfo.address, '127.0.0.1');
      assert.equal(rinfo.port, second.port, 'sent from the second listener, not the first');
    } finally {
      await peer.close();
    }
  });

  it('emits connection table open and close events for stream connections', async () => {
    const events: string[] = [];
    const onOpen = (c: { id: number }): void => void events.push(`open ${c.id}`);
    const onClose = (c: { id: number }, reason: string): void => void events.push(`close ${c.id} ${reason}`);
    layer.connections.on('open', onOpen);
    layer.connections.on('close', onClose);
    try {
      const peer = await StreamPeer.tcp(layer.listeners[1]!.port);
      await until(() => events.length === 1, 'open');
      peer.destroy();
      await until(() => events.length === 2, 'close');
      assert.match(events[1]!, /^close \d+ peer closed$/);
    } finally {
      layer.connections.off('open', onOpen);
      layer.connections.off('close', onClose);
    }
  });

  it('rejects start() when a listener cannot bind, leaving nothing bound', async () => {
    const taken = layer.listeners[1]!;
    const other = new TransportLayer({
      listeners: [
        { transport: 'udp', address: '127.0.0.1', port: 0 },
        { transport: 'tcp', address: '127.0.0.1', port: taken.port },
      ],
    });
    await assert.rejects(other.start(), /EADDRINUSE/);
    assert.equal(other.listeners.length, 0);
  });
});

describe('TransportLayer over IPv6', async () => {
  const ipv6 = await hasIPv6Loopback();
  const skip = ipv6 ? false : 'this machine has no ::1 (IPv6 loopback); the IPv6 listener test cannot run';
  const delegate = new RecordingDelegate();
  const layer = new TransportLayer({
    listeners: [
      { transport: 'udp', address: '::1', port: 0 },
      { transport: 'tcp', address: '::1', port: 0 },
    ],
    delegate,
  });

  before(async () => {
    if (ipv6) await layer.start();
  });
  after(() => layer.stop());

  it('receives and answers over UDP on ::1', { skip }, async () => {
    const port = layer.listeners[0]!.port;
    const peer = await UdpPeer.open('::1');
    try {
      await peer.send(sampleRequest({ sentBy: '[::1]:5070', viaParams: ';rport' }), port, '::1');
      const { message, flow } = await delegate.message(delegate.messages.length + 1);
      assert.equal(flow.remoteAddress, '::1');
      assert.equal(flow.localAddress, '::1');
      assert.equal(message.topVia!.received, '::1');
      assert.equal(message.topVia!.rport, peer.port);
      layer.sendResponse(createResponse(message as SipRequest, 200), flow, (e) => assert.fail(e));
      assert.match(await peer.datagram(1), /^SIP\/2\.0 200 OK\r\n/);
    } finally {
      await peer.close();
    }
  });

  it('receives and answers over TCP on ::1', { skip }, async () => {
    const port = layer.listeners[1]!.port;
    const peer = await StreamPeer.tcp(port, '::1');
    try {
      await peer.write(sampleRequest({ transport: 'TCP', sentBy: '[::1]:5070' }));
      const { message, flow } = await delegate.message(delegate.messages.length + 1);
      assert.equal(flow.transport, 'tcp');
      assert.equal(flow.remoteAddress, '::1');
      assert.equal(message.topVia!.received, undefined, 'sent-by is the source address');
      assert.equal(layer.connections.findByRemote('tcp', '[::1]', peer.localPort)?.id, flow.connectionId);
      layer.sendResponse(createResponse(message as SipRequest, 200), flow, (e) => assert.fail(e));
      await peer.waitFor('SIP/2.0 200 OK\r\n');
    } finally {
      peer.destroy();
    }
  });
});
