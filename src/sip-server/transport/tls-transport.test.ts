/**
 * SIP over TLS through the TransportLayer, on loopback, with the development certificate:
 * framing at every byte offset, pings, malformed and oversized input, responses over the
 * connection, outbound TLS with verification, TLS 1.2 minimum, handshake and connect timeouts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createResponse, parseMessage, serializeToString, type SipRequest } from '../../sip/index.js';
import { loadOrCreateCertificate } from './tls-certificate.js';
import { TransportLayer, type TransportLayerOptions } from './transport-layer.js';
import { RecordingDelegate, RecordingLogger, SAMPLE_SDP, StreamPeer, TcpPeerServer, bytes, delay, sampleRequest, until, within } from './testdata/loopback.js';

describe('TransportLayer over TLS', () => {
  let dataDir: string;
  let ca: string;
  let layer: TransportLayer;
  const delegate = new RecordingDelegate();
  const log = new RecordingLogger();
  let port: number;
  const started: TransportLayer[] = [];

  async function tlsLayer(options: Partial<TransportLayerOptions> = {}): Promise<{ layer: TransportLayer; delegate: RecordingDelegate; port: number }> {
    const d = new RecordingDelegate();
    const l = new TransportLayer({ listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0 }], delegate: d, dataDir, ...options });
    started.push(l);
    const [info] = await l.start();
    return { layer: l, delegate: d, port: info!.port };
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-tls-transport-'));
    ca = (await loadOrCreateCertificate(dataDir, new RecordingLogger())).cert;
    layer = new TransportLayer({
      listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0 }],
      delegate,
      dataDir,
      log,
      limits: { maxMessageSize: 4000, handshakeTimeoutMs: 300 },
    });
    started.push(layer);
    const [info] = await layer.start();
    port = info!.port;
  });
  after(async () => {
    await Promise.all(started.map((l) => l.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs the listener and uses the development certificate', () => {
    const listening = log.lines.find((l) => l.level === 'info' && /listening/.test(l.msg ?? ''));
    assert.deepEqual(listening?.obj, { transport: 'tls', address: '127.0.0.1', port });
    assert.ok(log.lines.some((l) => /development certificate/.test(l.msg ?? '')));
  });

  it('hands a request to onMessage with a tls flow; the client verifies the certificate', async () => {
    const peer = await StreamPeer.tls(port, ca);
    try {
      await peer.write(sampleRequest({ transport: 'TLS', callId: 'tls-1' }));
      const { message, flow } = await delegate.message(delegate.messages.length + 1);
      assert.equal(message.callId, 'tls-1');
      assert.equal(flow.transport, 'tls');
      assert.equal(flow.localPort, port);
      assert.equal(flow.remotePort, peer.localPort);
      assert.equal(layer.connections.get(flow.connectionId!)?.transport, 'tls');
    } finally {
      peer.destroy();
    }
  });

  it('frames a message split at every byte offset, over several connections', async () => {
    const text = (k: number): string => sampleRequest({ method: 'INVITE', transport: 'TLS', sentBy: '127.0.0.1:5071', callId: `tls-split-${String(k).padStart(4, '0')}`, body: SAMPLE_SDP });
    const length = bytes(text(1)).length;
    const offsets = Array.from({ length: length - 1 }, (_, i) => i + 1);
    const lanes = 4;
    const n0 = delegate.messages.length;
    const peers = await Promise.all(Array.from({ length: lanes }, () => StreamPeer.tls(port, ca)));
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
      const byCallId = new Map(delegate.messages.slice(n0).map((r) => [r.message.callId, r.message]));
      assert.equal(byCallId.size, offsets.length);
      for (const k of offsets) {
        const m = byCallId.get(`tls-split-${String(k).padStart(4, '0')}`);
        assert.ok(m, `message split at ${k}`);
        assert.equal(serializeToString(m), text(k), `message split at ${k} arrives whole`);
      }
    } finally {
      for (const p of peers) p.destroy();
    }
  });

  it('answers a CRLFCRLF ping with CRLF (RFC 5626 §3.5.1)', async () => {
    const peer = await StreamPeer.tls(port, ca);
    try {
      await peer.write('\r\n\r\n');
      await until(() => peer.data === '\r\n', 'the pong');
    } finally {
      peer.destroy();
    }
  });

  it('reports malformed input, closes on a message over the limit, and keeps serving', async () => {
    const peer = await StreamPeer.tls(port, ca);
    const e = delegate.parseErrors.length + 1;
    await peer.write(sampleRequest({ transport: 'TLS' }).replace(/^Max-Forwards: 70/m, 'Max-Forwards: many'));
    const malformed = await delegate.parseError(e);
    assert.equal(malformed.error.place, 'header/Max-Forwards');
    assert.equal(malformed.flow.transport, 'tls');
    assert.equal(peer.closed, false);
    await peer.write(sampleRequest({ transport: 'TLS', body: 'x'.repeat(5000) }));
    assert.equal((await delegate.parseError(e + 1)).error.code, 'ERR_SIP_FRAMING');
    await peer.waitClosed();

    const next = await StreamPeer.tls(port, ca);
    try {
      const n = delegate.messages.length + 1;
      await next.write(sampleRequest({ transport: 'TLS', callId: 'tls-still-serving' }));
      assert.equal((await delegate.message(n)).message.callId, 'tls-still-serving');
    } finally {
      next.destroy();
    }
  });

  it('sends a response over the connection the request came in on (§18.2.2)', async () => {
    const peer = await StreamPeer.tls(port, ca);
    try {
      const n = delegate.messages.length + 1;
      await peer.write(sampleRequest({ transport: 'TLS', sentBy: 'client.invalid', callId: 'tls-answer' }));
      const { message, flow } = await delegate.message(n);
      layer.sendResponse(createResponse(message as SipRequest, 180), flow, (err) => assert.fail(err));
      await peer.waitFor('SIP/2.0 180 Ringing\r\n');
    } finally {
      peer.destroy();
    }
  });

  it('refuses clients below TLS 1.2', async () => {
    const socket = tlsConnect({ port, host: '127.0.0.1', ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    const outcome = await within(
      new Promise<string>((resolve) => {
        socket.once('secureConnect', () => resolve('connected'));
        socket.once('error', (e) => resolve(`error ${e.message}`));
      }),
      'the handshake outcome',
    );
    socket.destroy();
    assert.match(outcome, /^error /);
  });

  it('refuses a client without a certificate when requireClientCertificate is set', async () => {
    const strict = await tlsLayer({ tls: { requireClientCertificate: true, ca } });
    const socket = tlsConnect({ port: strict.port, host: '127.0.0.1', ca });
    socket.on('error', () => {});
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.write(sampleRequest({ transport: 'TLS' }));
    await until(() => closed, 'the server to refuse the client');
    assert.equal(strict.delegate.messages.length, 0);
    await until(() => strict.layer.connections.size === 0, 'the connection to leave the table');
  });

  it('closes a connection that never completes the handshake (handshakeTimeoutMs)', async () => {
    const raw = netConnect({ port, host: '127.0.0.1' });
    raw.on('error', () => {});
    let closed = false;
    raw.on('close', () => (closed = true));
    const startedAt = Date.now();
    await until(() => closed, 'the server to drop the silent connection', 3000);
    assert.ok(Date.now() - startedAt >= 250);
  });

  it('sends requests to a TLS peer over one verified outbound connection, and gets the answer back', async () => {
    const b = await tlsLayer();
    const a = await tlsLayer({ tls: { ca } });
    const request = parseMessage(sampleRequest({ transport: 'TLS', method: 'MESSAGE', callId: 'outbound-tls' })).message as SipRequest;
    const errors: Error[] = [];
    a.layer.sendRequest(request, { transport: 'tls', remoteAddress: '127.0.0.1', remotePort: b.port }, (e) => errors.push(e));
    a.layer.sendRequest(request, { transport: 'tls', remoteAddress: '127.0.0.1', remotePort: b.port }, (e) => errors.push(e));
    const got = await b.delegate.message(2);
    assert.equal(got.message.callId, 'outbound-tls');
    assert.equal(b.layer.connections.size, 1, 'one connection for both requests');
    assert.deepEqual(errors, []);
    // b answers over the same connection; a hands the response up
    b.layer.sendResponse(createResponse(got.message as SipRequest, 200), got.flow, (e) => assert.fail(e));
    const response = await a.delegate.message(1);
    assert.equal(response.message.isRequest, false);
    assert.equal(response.flow.transport, 'tls');
  });

  it('fails an outbound connection to a server whose certificate it cannot verify', async () => {
    const b = await tlsLayer();
    const a = new TransportLayer({ listeners: [] }); // Node's default CAs: the dev certificate is unknown
    started.push(a);
    await a.start();
    const errors: Error[] = [];
    a.sendRequest(parseMessage(sampleRequest()).message as SipRequest, { transport: 'tls', remoteAddress: '127.0.0.1', remotePort: b.port }, (e) => errors.push(e));
    await until(() => errors.length === 1, 'the verification error');
    assert.match(errors[0]!.message, /self[- ]signed|certificate/i);
    assert.equal(a.connections.size, 0);
  });

  it('fails an outbound connection that does not complete within connectTimeoutMs', async () => {
    const silent = await TcpPeerServer.open('127.0.0.1', () => {}); // accepts, never speaks TLS
    const a = new TransportLayer({ listeners: [], limits: { connectTimeoutMs: 300 }, tls: { ca } });
    started.push(a);
    await a.start();
    try {
      const errors: Error[] = [];
      a.sendRequest(parseMessage(sampleRequest()).message as SipRequest, { transport: 'tls', remoteAddress: '127.0.0.1', remotePort: silent.port }, (e) => errors.push(e));
      await until(() => errors.length === 1, 'the connect timeout', 3000);
      assert.match(errors[0]!.message, /connect timeout/);
    } finally {
      await silent.close();
    }
  });

  it('starts with a certificate from files, and refuses a TLS listener with no certificate and no data directory', async () => {
    const files = await tlsLayer({ dataDir: undefined, tls: { certFile: join(dataDir, 'tls', 'dev-cert.pem'), keyFile: join(dataDir, 'tls', 'dev-key.pem') } });
    const peer = await StreamPeer.tls(files.port, await readFile(join(dataDir, 'tls', 'dev-cert.pem'), 'utf8'));
    peer.destroy();
    const none = new TransportLayer({ listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0 }] });
    await assert.rejects(none.start(), /needs tls\.certFile and tls\.keyFile, or a dataDir/);
  });
});
