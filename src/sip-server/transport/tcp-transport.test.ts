/**
 * SIP over TCP through the TransportLayer, on loopback: framing at every byte offset, keepalive
 * pings, malformed and oversized input, response routing over the connection (§18.2.2),
 * connection reuse (§18.1.1), connection limits and timeouts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResponse, parseMessage, serializeToString, type SipRequest } from '../../sip/index.js';
import type { TransportLimits } from './transport-limits.js';
import { TransportLayer } from './transport-layer.js';
import { RecordingDelegate, SAMPLE_SDP, StreamPeer, TcpPeerServer, bytes, delay, sampleRequest, until } from './testdata/loopback.js';

async function tcpLayer(limits: Partial<TransportLimits> = {}): Promise<{ layer: TransportLayer; delegate: RecordingDelegate; port: number }> {
  const delegate = new RecordingDelegate();
  const layer = new TransportLayer({ listeners: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], delegate, limits });
  const [info] = await layer.start();
  return { layer, delegate, port: info!.port };
}

describe('TransportLayer over TCP', () => {
  let layer: TransportLayer;
  let delegate: RecordingDelegate;
  let port: number;

  before(async () => {
    ({ layer, delegate, port } = await tcpLayer({ maxMessageSize: 4000, incompleteMessageTimeoutMs: 300 }));
  });
  after(() => layer.stop());

  it('hands a request to onMessage with the connection in its flow, and the table knows the connection', async () => {
    const peer = await StreamPeer.tcp(port);
    try {
      const n = delegate.messages.length + 1;
      await peer.write(sampleRequest({ transport: 'TCP', callId: 'tcp-1' }));
      const { message, flow } = await delegate.message(n);
      assert.equal(message.callId, 'tcp-1');
      assert.equal(flow.transport, 'tcp');
      assert.equal(flow.remotePort, peer.localPort);
      assert.equal(flow.localPort, port);
      assert.ok(flow.connectionId !== undefined);
      const c = layer.connections.get(flow.connectionId);
      assert.ok(c);
      assert.equal(c.direction, 'inbound');
      assert.equal(c.remoteAddress, '127.0.0.1');
      assert.equal(layer.connections.findByRemote('tcp', '127.0.0.1', peer.localPort), c);
    } finally {
      peer.destroy();
    }
  });

  it('frames a message split at every byte offset, over several connections', async () => {
    const text = (k: number): string => sampleRequest({ method: 'INVITE', transport: 'TCP', sentBy: '127.0.0.1:5070', callId: `split-${String(k).padStart(4, '0')}`, body: SAMPLE_SDP });
    const length = bytes(text(1)).length;
    const offsets = Array.from({ length: length - 1 }, (_, i) => i + 1);
    const lanes = 4;
    const n0 = delegate.messages.length;
    const peers = await Promise.all(Array.from({ length: lanes }, () => StreamPeer.tcp(port)));
    try {
      await Promise.all(
        peers.map(async (peer, lane) => {
          for (const k of offsets.filter((_, i) => i % lanes === lane)) {
            const b = bytes(text(k));
            await peer.write(b.subarray(0, k));
            await delay(1);
            await peer.write(b.subarray(k));
          }
        }),
      );
      await until(() => delegate.messages.length >= n0 + offsets.length, `${offsets.length} messages`);
      const got = delegate.messages.slice(n0);
      assert.equal(got.length, offsets.length);
      const byCallId = new Map(got.map((r) => [r.message.callId, r.message]));
      for (const k of offsets) {
        const m = byCallId.get(`split-${String(k).padStart(4, '0')}`);
        assert.ok(m, `message split at ${k}`);
        assert.equal(serializeToString(m), text(k), `message split at ${k} arrives whole`);
      }
      assert.equal(delegate.parseErrors.length, 0);
    } finally {
      for (const p of peers) p.destroy();
    }
  });

  it('answers a CRLFCRLF ping with CRLF, ignores a CRLF pong, and keeps the connection (RFC 5626 §3.5.1)', async () => {
    const peer = await StreamPeer.tcp(port);
    try {
      await peer.write('\r\n\r\n');
      await until(() => peer.data === '\r\n', 'the pong');
      await peer.write('\r\n'); // a pong from the client: ignored
      const n = delegate.messages.length + 1;
      await peer.write(sampleRequest({ transport: 'TCP', callId: 'after-ping' }));
      assert.equal((await delegate.message(n)).message.callId, 'after-ping');
      assert.equal(peer.data, '\r\n');
      assert.equal(delegate.parseErrors.length, 0);
    } finally {
      peer.destroy();
    }
  });

  it('reports a well-framed malformed message to onParseError and keeps the connection open', async () => {
    const peer = await StreamPeer.tcp(port);
    try {
      const e = delegate.parseErrors.length + 1;
      await peer.write(sampleRequest({ transport: 'TCP' }).replace(/^From: .*\r\n/m, ''));
      const failure = await delegate.parseError(e);
      assert.equal(failure.error.place, 'header/From');
      assert.ok(failure.partial?.isRequest);
      assert.equal(failure.flow.transport, 'tcp');
      const n = delegate.messages.length + 1;
      await peer.write(sampleRequest({ transport: 'TCP', callId: 'same-connection' }));
      assert.equal((await delegate.message(n)).message.callId, 'same-connection');
      assert.equal(peer.closed, false);
    } finally {
      peer.destroy();
    }
  });

  it('closes the connection on a message without Content-Length, and the listener keeps serving', async () => {
    const peer = await StreamPeer.tcp(port);
    const e = delegate.parseErrors.length + 1;
    await peer.write(sampleRequest({ transport: 'TCP' }).replace(/^Content-Length: .*\r\n/m, ''));
    const failure = await delegate.parseError(e);
    assert.equal(failure.error.code, 'ERR_SIP_FRAMING');
    assert.equal(failure.partial, undefined);
    await peer.waitClosed();
    // answered over the connection before it closed, from the header section
    assert.match(peer.data, /^SIP\/2\.0 400 Bad Request \(header\/Content-Length\)\r\n/);
    assert.match(peer.data, /\r\nWarning: 399 parley "message without Content-Length on a stream"\r\n/);
    await assertStillServing(port, delegate);
  });

  it('closes the connection on a message over maxMessageSize, after answering 513', async () => {
    const peer = await StreamPeer.tcp(port);
    const e = delegate.parseErrors.length + 1;
    await peer.write(sampleRequest({ transport: 'TCP' }).replace(/^Content-Length: 0/m, 'Content-Length: 100000'));
    assert.equal((await delegate.parseError(e)).error.code, 'ERR_SIP_FRAMING');
    await peer.waitClosed();
    assert.match(peer.data, /^SIP\/2\.0 513 Message Too Large/);
    await assertStillServing(port, delegate);
  });

  it('closes the connection when a header section grows past maxMessageSize without ending', async () => {
    const peer = await StreamPeer.tcp(port);
    const e = delegate.parseErrors.length + 1;
    await peer.write('INVITE sip:x@127.0.0.1 SIP/2.0\r\n');
    for (let i = 0; i < 10 && !peer.closed; i++) {
      await peer.write(`X-Filler-${i}: ${'y'.repeat(500)}\r\n`).catch(() => {});
    }
    assert.match((await delegate.parseError(e)).error.message, /header section larger than the message size limit/);
    await peer.waitClosed();
    assert.equal(peer.data, '', 'no Via among the lines read: no answer');
    await assertStillServing(port, delegate);
  });

  it('closes a connection whose message never completes (incompleteMessageTimeoutMs)', async () => {
    const peer = await StreamPeer.tcp(port);
    await peer.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1');
    const started = Date.now();
    await peer.waitClosed(3000);
    assert.ok(Date.now() - started >= 200, 'not before the timeout');
  });

  it('a paused connection reads nothing until resumed, loses no byte, and its unfinished message does not time out meanwhile', async () => {
    const peer = await StreamPeer.tcp(port);
    try {
      const n = delegate.messages.length;
      const c2 = sampleRequest({ transport: 'TCP', callId: 'paused-2' });
      // the first message, and the start of the second: the framer holds it and its timer runs
      await peer.write(sampleRequest({ transport: 'TCP', callId: 'paused-1' }) + c2.slice(0, 40));
      const { flow } = await delegate.message(n + 1);
      const connection = layer.connections.get(flow.connectionId!)!;
      connection.pauseReading!();
      await peer.write(c2.slice(40) + sampleRequest({ transport: 'TCP', callId: 'paused-3' }));
      await delay(700); // more than twice incompleteMessageTimeoutMs
      assert.equal(delegate.messages.length, n + 1, 'a paused connection delivered a message');
      assert.ok(connection.isOpen, 'the unfinished message timed out while the connection was paused');
      connection.resumeReading!();
      assert.equal((await delegate.message(n + 2)).message.callId, 'paused-2');
      assert.equal((await delegate.message(n + 3)).message.callId, 'paused-3');
    } finally {
      peer.destroy();
    }
  });

  it('sends a response over the connection the request came in on (§18.2.2)', async () => {
    const peer = await StreamPeer.tcp(port);
    try {
      const n = delegate.messages.length + 1;
      // sent-by names a port nobody listens on: only the open connection gets the response back
      await peer.write(sampleRequest({ transport: 'TCP', sentBy: 'client.invalid:25998', callId: 'answer-me' }));
      const { message, flow } = await delegate.message(n);
      layer.sendResponse(createResponse(message as SipRequest, 200), flow, (err) => assert.fail(err));
      await peer.waitFor('SIP/2.0 200 OK\r\n');
      assert.match(peer.data, /Call-ID: answer-me\r\n/);
    } finally {
      peer.destroy();
    }
  });

  it('opens a connection to received:sent-by port when the request connection has closed (§18.2.2)', async () => {
    const client = await TcpPeerServer.open();
    const peer = await StreamPeer.tcp(port);
    try {
      const n = delegate.messages.length + 1;
      await peer.write(sampleRequest({ transport: 'TCP', sentBy: `client.invalid:${client.port}`, callId: 'reconnect' }));
      const { message, flow } = await delegate.message(n);
      peer.destroy();
      await until(() => layer.connections.get(flow.connectionId!) === undefined, 'the server to see the close');
      layer.sendResponse(createResponse(message as SipRequest, 200), flow, (err) => assert.fail(err));
      await until(() => client.data.includes('SIP/2.0 200 OK\r\n'), 'the response on a new connection');
      const c = layer.connections.findByRemote('tcp', '127.0.0.1', client.port);
      assert.equal(c?.direction, 'outbound');
    } finally {
      peer.destroy();
      await client.close();
    }
  });

  it('reuses the connection a peer opened for a request to its address and port, and by connectionId (§18.1.1)', async () => {
    const peer = await StreamPeer.tcp(port);
    try {
      const n = delegate.messages.length + 1;
      await peer.write(sampleRequest({ transport: 'TCP', callId: 'register-me', method: 'REGISTER' }));
      const { flow } = await delegate.message(n);
      const before = layer.connections.size;
      const request = (await delegate.message(n)).message as SipRequest;
      layer.sendRequest(request, { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: peer.localPort }, (err) => assert.fail(err));
      await peer.waitFor('REGISTER sip:parley@127.0.0.1 SIP/2.0\r\n');
      layer.sendRequest(request, { transport: 'tcp', remoteAddress: '192.0.2.1', remotePort: 5060, connectionId: flow.connectionId! }, (err) => assert.fail(err));
      await until(() => peer.data.split('REGISTER sip:').length === 3, 'the second request over the same connection');
      assert.equal(layer.connections.size, before, 'no new connection');
    } finally {
      peer.destroy();
    }
  });

  it('opens one outbound connection for several requests to the same peer (§18.1.1)', async () => {
    const server = await TcpPeerServer.open();
    try {
      const request = delegate.messages[0]!.message as SipRequest;
      const errors: Error[] = [];
      for (let i = 0; i < 3; i++) layer.sendRequest(request, { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: server.port }, (e) => errors.push(e));
      await until(() => server.data.split('OPTIONS sip:').length === 4, 'three requests');
      assert.equal(server.sockets.length, 1);
      assert.deepEqual(errors, []);
      // the peer's answer on that connection comes back up like any message
      const n = delegate.messages.length + 1;
      const r = createResponse(request, 200);
      server.sockets[0]!.write(serializeToString(r));
      const got = await delegate.message(n);
      assert.equal(got.message.isRequest, false);
      assert.equal(got.flow.connectionId, layer.connections.findByRemote('tcp', '127.0.0.1', server.port)!.id);
    } finally {
      await server.close();
    }
  });

  it('reports a refused connection through onError', async () => {
    const server = await TcpPeerServer.open();
    const closedPort = server.port;
    await server.close();
    const errors: Error[] = [];
    layer.sendRequest(delegate.messages[0]!.message as SipRequest, { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: closedPort }, (e) => errors.push(e));
    await until(() => errors.length === 1, 'the connect error');
    assert.match(errors[0]!.message, /ECONNREFUSED|closed/);
    assert.equal(layer.connections.findByRemote('tcp', '127.0.0.1', closedPort), undefined);
  });
});

async function assertStillServing(port: number, delegate: RecordingDelegate): Promise<void> {
  const peer = await StreamPeer.tcp(port);
  try {
    const n = delegate.messages.length + 1;
    await peer.write(sampleRequest({ transport: 'TCP', callId: 'still-serving' }));
    assert.equal((await delegate.message(n)).message.callId, 'still-serving');
  } finally {
    peer.destroy();
  }
}

describe('TransportLayer TCP limits', () => {
  it('refuses connections over maxConnectionsPerAddress and accepts again when one closes', async () => {
    const { layer, port } = await tcpLayer({ maxConnectionsPerAddress: 3 });
    const peers: StreamPeer[] = [];
    try {
      for (let i = 0; i < 3; i++) peers.push(await StreamPeer.tcp(port));
      await until(() => layer.connections.size === 3, 'three connections in the table');
      const fourth = await StreamPeer.tcp(port);
      peers.push(fourth);
      await fourth.waitClosed();
      assert.equal(layer.connections.size, 3);
      assert.equal(layer.connections.inboundCount('127.0.0.1'), 3);
      peers[0]!.destroy();
      await until(() => layer.connections.size === 2, 'the closed connection to leave the table');
      const again = await StreamPeer.tcp(port);
      peers.push(again);
      await until(() => layer.connections.size === 3, 'a new connection accepted');
      assert.equal(again.closed, false);
    } finally {
      for (const p of peers) p.destroy();
      await layer.stop();
    }
  });

  it('refuses connections over maxConnections', async () => {
    const { layer, port } = await tcpLayer({ maxConnections: 2 });
    const peers: StreamPeer[] = [];
    try {
      for (let i = 0; i < 2; i++) peers.push(await StreamPeer.tcp(port));
      await until(() => layer.connections.size === 2, 'two connections');
      const third = await StreamPeer.tcp(port);
      peers.push(third);
      await third.waitClosed();
      const errors: Error[] = [];
      layer.sendRequest(
        parseMessage(sampleRequest()).message as SipRequest,
        { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: 25997 },
        (e) => errors.push(e),
      );
      assert.match(errors[0]?.message ?? '', /maxConnections/);
    } finally {
      for (const p of peers) p.destroy();
      await layer.stop();
    }
  });

  it('closes an idle inbound connection after inboundIdleTimeoutMs and emits close', async () => {
    const { layer, port } = await tcpLayer({ inboundIdleTimeoutMs: 250 });
    const reasons: string[] = [];
    layer.connections.on('close', (_c, reason) => reasons.push(reason));
    const peer = await StreamPeer.tcp(port);
    try {
      const started = Date.now();
      await delay(100);
      await peer.write('\r\n\r\n'); // activity restarts the timer
      await peer.waitClosed(3000);
      assert.ok(Date.now() - started >= 300, 'activity postponed the timeout');
      await until(() => reasons.length === 1, 'the close event');
      assert.deepEqual(reasons, ['idle timeout']);
      assert.equal(layer.connections.size, 0);
    } finally {
      peer.destroy();
      await layer.stop();
    }
  });

  it('stop() closes listeners and connections', async () => {
    const { layer, port } = await tcpLayer();
    const peer = await StreamPeer.tcp(port);
    await until(() => layer.connections.size === 1, 'the connection');
    await layer.stop();
    await peer.waitClosed();
    assert.equal(layer.connections.size, 0);
    await assert.rejects(StreamPeer.tcp(port));
    await layer.stop(); // twice is fine
  });
});
