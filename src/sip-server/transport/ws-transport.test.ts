/**
 * SIP over WebSocket (RFC 7118) through WsTransport and the TransportLayer, on loopback, with a
 * client writing raw frames: the handshake and its subprotocol, one SIP message per WebSocket
 * message however frames are fragmented or packed into TCP writes, datagram-like parsing,
 * responses over the connection, CRLF and WebSocket keepalives, and the limits.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createResponse, type SipRequest } from '../../sip/index.js';
import type { SipConnection } from './connection-table.js';
import { loadOrCreateCertificate } from './tls-certificate.js';
import { TransportLayer } from './transport-layer.js';
import type { TransportLimits } from './transport-limits.js';
import { WsTransport } from './ws-transport.js';
import { RecordingDelegate, RecordingLogger, SAMPLE_SDP, bytes, delay, sampleRequest, until } from './testdata/loopback.js';
import { OP_BINARY, OP_CONTINUATION, OP_PING, OP_TEXT, RawWsClient, encodeFrame } from './testdata/ws-client.js';

interface Setup {
  readonly layer: TransportLayer;
  readonly delegate: RecordingDelegate;
  readonly ws: WsTransport;
  readonly port: number;
  readonly log: RecordingLogger;
  close(): Promise<void>;
}

/** A TransportLayer (no listener of its own) with a WsTransport behind a plain node HTTP(S) server on loopback. */
async function wsSetup(o: { limits?: Partial<TransportLimits>; pingIntervalMs?: number; tls?: { cert: string; key: string } } = {}): Promise<Setup> {
  const delegate = new RecordingDelegate();
  const log = new RecordingLogger();
  const layer = new TransportLayer({ listeners: [], delegate, limits: o.limits ?? {}, log });
  await layer.start();
  const ws = new WsTransport({ ...layer.connectionSink(), pingIntervalMs: o.pingIntervalMs ?? 0 });
  const onRequest = (_req: unknown, res: { statusCode: number; end(): void }): void => {
    res.statusCode = 404;
    res.end();
  };
  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest) : createHttpServer(onRequest);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => (sockets.add(s), s.once('close', () => sockets.delete(s))));
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    ws.handleUpgrade(req, socket, head, o.tls !== undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    layer,
    delegate,
    ws,
    port,
    log,
    close: async () => {
      ws.close();
      await layer.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A request as a browser's SIP stack writes it: Via WSS with a made-up `.invalid` host. */
function wsRequest(callId: string, o: { method?: string; body?: string; transport?: string } = {}): string {
  return sampleRequest({ method: o.method ?? 'OPTIONS', transport: o.transport ?? 'WSS', sentBy: 'df7jal23ls0d.invalid', callId, ...(o.body === undefined ? {} : { body: o.body }) });
}

describe('WsTransport: SIP over WebSocket (RFC 7118)', () => {
  let s: Setup;
  const clients: RawWsClient[] = [];
  async function client(options: Partial<Parameters<typeof RawWsClient.connect>[0]> = {}, setup: Setup = s): Promise<RawWsClient> {
    const c = await RawWsClient.connect({ port: setup.port, ...options });
    clients.push(c);
    return c;
  }

  before(async () => {
    s = await wsSetup({ limits: { maxMessageSize: 4000 } });
    // answer every request 200 through the transport layer, as the server would
    s.delegate.onReceived = ({ message, flow }) => {
      if (message.isRequest) s.layer.sendResponse(createResponse(message as SipRequest, 200, { toTag: 'x' }), flow, () => {});
    };
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await s.close();
  });

  it('accepts a handshake offering "sip", answers with it, and enters the connection in the table (ws, inbound)', async () => {
    const c = await client();
    assert.equal(c.status, 101);
    assert.equal(c.headers['sec-websocket-protocol'], 'sip');
    await until(() => [...s.layer.connections.values()].some((x) => x.remotePort === c.localPort), 'the connection in the table');
    const conn = [...s.layer.connections.values()].find((x) => x.remotePort === c.localPort)!;
    assert.equal(conn.transport, 'ws');
    assert.equal(conn.direction, 'inbound');
    assert.equal(conn.remoteAddress, '127.0.0.1');
    assert.equal(conn.localPort, s.port);
    assert.equal(s.layer.connections.findByRemote('ws', '127.0.0.1', c.localPort), conn);
  });

  it('refuses a handshake without the "sip" subprotocol with 400, and never enters it in the table', async () => {
    const before = s.layer.connections.size;
    for (const protocol of [null, 'chat', 'chat, superchat', 'sipx']) {
      const c = await client({ protocol });
      assert.equal(c.status, 400, `Sec-WebSocket-Protocol: ${protocol}`);
      assert.match(c.refusalBody, /subprotocol "sip"/);
      await c.waitClosed();
    }
    assert.equal(s.layer.connections.size, before);
  });

  it('picks "sip" among several offered and echoes the client\'s spelling', async () => {
    const c = await client({ protocol: 'chat, sip' });
    assert.equal(c.status, 101);
    assert.equal(c.headers['sec-websocket-protocol'], 'sip');
    const upper = await client({ protocol: 'SIP' });
    assert.equal(upper.status, 101);
    assert.equal(upper.headers['sec-websocket-protocol'], 'SIP');
  });

  it('hands each text or binary WebSocket message up as one SIP message, with the connection in its flow', async () => {
    const c = await client();
    const n = s.delegate.messages.length;
    await c.sendText(wsRequest('ws-text'));
    await c.sendFrame(OP_BINARY, Buffer.from(wsRequest('ws-binary')));
    await s.delegate.message(n + 2);
    const got = s.delegate.messages.slice(n).map((r) => r.message.callId);
    assert.deepEqual(got, ['ws-text', 'ws-binary']);
    const { flow } = s.delegate.messages[n]!;
    assert.equal(flow.transport, 'ws');
    assert.equal(flow.remotePort, c.localPort);
    assert.ok(flow.connectionId !== undefined && s.layer.connections.get(flow.connectionId) !== undefined);
  });

  it('reassembles a message fragmented into continuation frames, each in its own TCP write, with a ping between them', async () => {
    const c = await client();
    const text = wsRequest('ws-fragments', { method: 'INVITE', body: SAMPLE_SDP });
    const cuts = [0, 7, 60, 61, 200, 333, text.length - 5, text.length];
    const n = s.delegate.messages.length;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const piece = Buffer.from(text.slice(cuts[i], cuts[i + 1]));
      await c.sendFrame(i === 0 ? OP_TEXT : OP_CONTINUATION, piece, { fin: i + 2 === cuts.length });
      // RFC 6455 §5.4: control frames may come between the fragments of a message
      if (i === 2) await c.sendFrame(OP_PING, 'between');
      await delay(5);
    }
    const { message } = await s.delegate.message(n + 1);
    assert.equal(message.callId, 'ws-fragments');
    assert.equal(new TextDecoder().decode(message.body), SAMPLE_SDP);
    await until(() => c.frames.some((f) => f.opcode === 0xa && f.payload.toString() === 'between'), 'the pong');
    assert.equal(s.delegate.messages.length, n + 1, 'one message, not one per fragment');
  });

  it('a paused connection hands up no message until resumed, and then every one in order', async () => {
    const c = await client();
    const n = s.delegate.messages.length;
    await c.sendText(wsRequest('ws-paused-1'));
    const { flow } = await s.delegate.message(n + 1);
    const connection = s.layer.connections.get(flow.connectionId!)!;
    connection.pauseReading!();
    await c.sendText(wsRequest('ws-paused-2'));
    await c.sendText(wsRequest('ws-paused-3'));
    await delay(200);
    assert.equal(s.delegate.messages.length, n + 1, 'a paused connection handed up a message');
    connection.resumeReading!();
    await s.delegate.message(n + 3);
    assert.deepEqual(s.delegate.messages.slice(n).map((r) => r.message.callId), ['ws-paused-1', 'ws-paused-2', 'ws-paused-3']);
  });

  it('takes two WebSocket messages in one TCP write as two SIP messages', async () => {
    const c = await client();
    const n = s.delegate.messages.length;
    await c.write(Buffer.concat([encodeFrame(OP_TEXT, wsRequest('ws-merged-1')), encodeFrame(OP_TEXT, wsRequest('ws-merged-2', { body: SAMPLE_SDP }))]));
    await s.delegate.message(n + 2);
    assert.deepEqual(s.delegate.messages.slice(n).map((r) => r.message.callId), ['ws-merged-1', 'ws-merged-2']);
  });

  it('frames a WebSocket frame split at every byte offset across TCP writes', async () => {
    const c = await client();
    const frame = encodeFrame(OP_TEXT, wsRequest('ws-split', { method: 'INVITE', body: SAMPLE_SDP }));
    const n = s.delegate.messages.length;
    for (let k = 1; k < frame.length; k++) {
      await c.write(frame.subarray(0, k));
      await c.write(frame.subarray(k));
    }
    await s.delegate.message(n + frame.length - 1);
    assert.ok(s.delegate.messages.slice(n).every((r) => r.message.callId === 'ws-split' && r.message.body.length === bytes(SAMPLE_SDP).length));
    assert.equal(s.delegate.parseErrors.length, 0);
  });

  it('parses a WebSocket message like a datagram: Content-Length optional, a short body is an error, a second message in it is dropped', async () => {
    const c = await client();
    const n = s.delegate.messages.length;
    const errors = s.delegate.parseErrors.length;
    // Content-Length may be missing (early JsSIP left it out; RFC 7118 §5.1: the message ends with the WebSocket message)
    const noLength = wsRequest('ws-no-length', { body: SAMPLE_SDP }).replace(/Content-Length: \d+\r\n/, '');
    await c.sendText(noLength);
    const { message } = await s.delegate.message(n + 1);
    assert.equal(message.callId, 'ws-no-length');
    assert.equal(new TextDecoder().decode(message.body), SAMPLE_SDP);
    // a body shorter than its Content-Length: an error with the partial message (the server answers 400)
    await c.sendText(wsRequest('ws-short').replace('Content-Length: 0', 'Content-Length: 100'));
    const failure = await s.delegate.parseError(errors + 1);
    assert.equal(failure.partial?.callId, 'ws-short');
    assert.equal(failure.flow.transport, 'ws');
    // RFC 7118 §5.1: one SIP message per WebSocket message; bytes after Content-Length are discarded
    await c.sendText(wsRequest('ws-first') + wsRequest('ws-second'));
    await c.sendText(wsRequest('ws-after'));
    await s.delegate.message(n + 3);
    assert.deepEqual(s.delegate.messages.slice(n).map((r) => r.message.callId), ['ws-no-length', 'ws-first', 'ws-after']);
    assert.equal(c.closed, false, 'bad input does not cost the connection');
  });

  it('sends responses over the connection the request came on, as text, whatever the Via transport says', async () => {
    const c = await client();
    for (const [i, transport] of ['WSS', 'WS', 'TCP'].entries()) {
      await c.sendText(wsRequest(`ws-answer-${transport}`, { transport }));
      const text = await c.message(i + 1);
      assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
      assert.match(text, new RegExp(`Call-ID: ws-answer-${transport}\r\n`));
      assert.match(text, new RegExp(`Via: SIP/2.0/${transport} df7jal23ls0d\\.invalid;branch=z9hG4bK776asdhds;received=127\\.0\\.0\\.1`));
      assert.equal(c.messages[i]!.text, true, 'a UTF-8 message goes as a text frame');
    }
  });

  it('sends bytes that are not UTF-8 as a binary message', async () => {
    const c = await client();
    await until(() => [...s.layer.connections.values()].some((x) => x.remotePort === c.localPort), 'the connection');
    const conn = [...s.layer.connections.values()].find((x) => x.remotePort === c.localPort)!;
    conn.send(new Uint8Array([0x53, 0x49, 0x50, 0xff, 0xfe]));
    await c.message(1);
    assert.equal(c.messages[0]!.text, false);
    assert.deepEqual([...c.messages[0]!.data], [0x53, 0x49, 0x50, 0xff, 0xfe]);
  });

  it('answers a double-CRLF keepalive with a CRLF message, ignores a lone CRLF, and parses neither', async () => {
    const c = await client();
    const n = s.delegate.messages.length;
    const errors = s.delegate.parseErrors.length;
    await c.sendText('\r\n');
    await c.sendText('\r\n\r\n');
    assert.equal(await c.message(1), '\r\n');
    await c.sendText('\r\n\r\n');
    assert.equal(await c.message(2), '\r\n');
    await delay(50);
    assert.equal(c.messages.length, 2, 'a lone CRLF (a pong) gets no answer');
    assert.equal(s.delegate.messages.length, n);
    assert.equal(s.delegate.parseErrors.length, errors);
  });

  it('closes with 1009 a message larger than maxMessageSize, whole or in fragments', async () => {
    const whole = await client();
    await whole.sendText(wsRequest('ws-big', { body: 'x'.repeat(5000) }));
    await whole.waitClosed();
    assert.equal(whole.closeCode, 1009);
    const fragmented = await client();
    for (let i = 0; i < 5; i++) await fragmented.sendFrame(i === 0 ? OP_TEXT : OP_CONTINUATION, 'y'.repeat(1000), { fin: false });
    await fragmented.waitClosed();
    assert.equal(fragmented.closeCode, 1009);
    await until(() => ![...s.layer.connections.values()].some((x) => x.remotePort === whole.localPort || x.remotePort === fragmented.localPort), 'both to leave the table');
  });

  it('closes on an unmasked client frame (1002) and on invalid UTF-8 in a text frame (1007)', async () => {
    const unmasked = await client();
    await unmasked.sendFrame(OP_TEXT, wsRequest('ws-unmasked'), { mask: false });
    await unmasked.waitClosed();
    assert.equal(unmasked.closeCode, 1002);
    const badText = await client();
    await badText.sendFrame(OP_TEXT, Buffer.from([0x53, 0x49, 0x50, 0xc3, 0x28]));
    await badText.waitClosed();
    assert.equal(badText.closeCode, 1007);
    const fine = await client();
    assert.equal(fine.status, 101, 'the transport still accepts connections');
  });

  it('survives garbage: random bytes instead of frames, and random payloads in valid messages', async () => {
    // a deterministic generator, so that a failure can be replayed
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const bytesOf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => random(256)));
    for (let i = 0; i < 20; i++) {
      const c = await client();
      await c.write(bytesOf(1 + random(300))).catch(() => {});
      await c.waitClosed().catch(() => c.destroy());
    }
    const c = await client();
    const sip = wsRequest('ws-garbage');
    for (let i = 0; i < 100; i++) {
      // a SIP message with random bytes written over a random stretch of it, as text or binary
      const m = Buffer.from(sip);
      const at = random(m.length);
      bytesOf(1 + random(40)).copy(m, at);
      await c.sendFrame(random(2) === 0 ? OP_BINARY : OP_TEXT, m).catch(() => {});
      if (c.closed) break; // invalid UTF-8 in a text frame closes (1007): that is allowed
    }
    const after = await client();
    await after.sendText(wsRequest('ws-after-garbage'));
    await until(() => s.delegate.messages.some((r) => r.message.callId === 'ws-after-garbage'), 'a message after the garbage');
    assert.equal(after.closed, false);
  });

  it('leaves the table and emits close when the client closes', async () => {
    const c = await client();
    await until(() => [...s.layer.connections.values()].some((x) => x.remotePort === c.localPort), 'the connection');
    const closed: SipConnection[] = [];
    const onClose = (x: SipConnection): void => void closed.push(x);
    s.layer.connections.on('close', onClose);
    try {
      c.close();
      await until(() => closed.some((x) => x.remotePort === c.localPort), 'the close event');
      assert.equal(s.layer.connections.findByRemote('ws', '127.0.0.1', c.localPort), undefined);
    } finally {
      s.layer.connections.off('close', onClose);
    }
  });
});

describe('WsTransport keepalives and limits', () => {
  const setups: Setup[] = [];
  const clients: RawWsClient[] = [];
  async function setup(o: Parameters<typeof wsSetup>[0]): Promise<Setup> {
    const x = await wsSetup(o);
    setups.push(x);
    return x;
  }
  async function client(x: Setup, options: Partial<Parameters<typeof RawWsClient.connect>[0]> = {}): Promise<RawWsClient> {
    const c = await RawWsClient.connect({ port: x.port, ...options });
    clients.push(c);
    return c;
  }
  after(async () => {
    for (const c of clients) c.destroy();
    for (const x of setups) await x.close();
  });

  it('pings every interval and closes a peer that stops answering, keeping one that answers', async () => {
    const x = await setup({ pingIntervalMs: 100 });
    const alive = await client(x);
    const dead = await client(x, { answerPings: false });
    await dead.waitClosed();
    assert.ok(dead.frames.some((f) => f.opcode === OP_PING), 'it was pinged first');
    assert.equal(alive.closed, false);
    assert.ok(alive.frames.filter((f) => f.opcode === OP_PING).length >= 2, 'the live one answered several pings');
    assert.equal(x.layer.connections.size, 1);
    assert.ok(x.log.lines.some((l) => /no answer to the last ping/.test(l.msg ?? '')));
  });

  it('closes an idle connection even when it answers pings (they are not SIP activity)', async () => {
    const x = await setup({ pingIntervalMs: 50, limits: { inboundIdleTimeoutMs: 300 } });
    const c = await client(x);
    await c.waitClosed();
    assert.equal(c.closeCode, 1000);
    assert.ok(c.frames.some((f) => f.opcode === OP_PING));
    assert.equal(x.layer.connections.size, 0);
  });

  it('refuses a connection over maxConnectionsPerAddress or maxConnections with 503', async () => {
    const x = await setup({ limits: { maxConnectionsPerAddress: 2, maxConnections: 3 } });
    const a = await client(x);
    const b = await client(x);
    const refused = await client(x);
    assert.equal(a.status, 101);
    assert.equal(b.status, 101);
    assert.equal(refused.status, 503);
    assert.match(refused.refusalBody, /from this address/);
    // another source address still gets in, up to the total
    const other = await client(x, { localAddress: '127.0.0.2' });
    assert.equal(other.status, 101);
    const overTotal = await client(x, { localAddress: '127.0.0.3' });
    assert.equal(overTotal.status, 503);
    assert.equal(x.layer.connections.size, 3);
    // a closed connection frees its place
    a.close();
    await until(() => x.layer.connections.size === 2, 'the closed one to leave');
    const again = await client(x);
    assert.equal(again.status, 101);
  });

  it('carries SIP over TLS as wss', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-ws-'));
    try {
      const cert = await loadOrCreateCertificate(dir, new RecordingLogger());
      const x = await setup({ tls: { cert: cert.cert, key: cert.key } });
      x.delegate.onReceived = ({ message, flow }) => x.layer.sendResponse(createResponse(message as SipRequest, 200, { toTag: 'y' }), flow, () => {});
      const c = await client(x, { tls: { ca: cert.cert } });
      assert.equal(c.status, 101);
      await c.sendText(wsRequest('wss-1'));
      const { flow } = await x.delegate.message(1);
      assert.equal(flow.transport, 'wss');
      assert.match(await c.message(1), /^SIP\/2\.0 200 OK\r\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an error in the layer above never reaches the socket: a request the delegate throws on still gets the next one through', async () => {
    const x = await setup({});
    let first = true;
    x.delegate.onReceived = () => {
      if (first) {
        first = false;
        throw new Error('boom');
      }
    };
    const c = await client(x);
    await c.sendText(wsRequest('throws'));
    await c.sendText(wsRequest('fine'));
    await x.delegate.message(2);
    assert.equal(x.delegate.messages[1]!.message.callId, 'fine');
    assert.equal(c.closed, false);
  });
});
