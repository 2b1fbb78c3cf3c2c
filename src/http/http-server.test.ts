/**
 * The web server on loopback: fastify routes on HTTP and HTTPS listeners, routes added by other
 * modules, the upgrade dispatch by path, the Origin check in front of SIP over WebSocket, TLS 1.2
 * minimum, and a stop that closes upgraded sockets too.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import { loadOrCreateCertificate, type TlsCertificate } from '../sip-server/transport/tls-certificate.js';
import { TransportLayer } from '../sip-server/transport/transport-layer.js';
import { WsTransport } from '../sip-server/transport/ws-transport.js';
import { RecordingDelegate, RecordingLogger, until, within } from '../sip-server/transport/testdata/loopback.js';
import { RawWsClient } from '../sip-server/transport/testdata/ws-client.js';
import { HttpServer } from './http-server.js';

/** GET over HTTPS trusting `ca` (fetch in Node 20 cannot be given a CA). */
function httpsGet(port: number, path: string, ca: string): Promise<{ status: number; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, ca, servername: 'localhost' }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    }),
    `GET ${path}`,
  );
}

describe('HttpServer', () => {
  let dataDir: string;
  let certificate: TlsCertificate;
  let layer: TransportLayer;
  let ws: WsTransport;
  let http: HttpServer;
  let httpPort: number;
  let httpsPort: number;
  const log = new RecordingLogger();
  const clients: RawWsClient[] = [];
  async function client(o: Partial<Parameters<typeof RawWsClient.connect>[0]> & { port: number }): Promise<RawWsClient> {
    const c = await RawWsClient.connect(o);
    clients.push(c);
    return c;
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-http-'));
    certificate = await loadOrCreateCertificate(dataDir, new RecordingLogger());
    layer = new TransportLayer({ listeners: [], delegate: new RecordingDelegate() });
    await layer.start();
    ws = new WsTransport({ ...layer.connectionSink(), pingIntervalMs: 0 });
    const greeting: FastifyPluginAsync = async (app) => {
      app.get('/hello', async () => ({ hello: 'from a plugin' }));
    };
    http = new HttpServer({
      listeners: [
        { transport: 'http', address: '127.0.0.1', port: 0 },
        { transport: 'https', address: '127.0.0.1', port: 0 },
      ],
      certificate,
      origins: ['https://phone.example.com'],
      plugins: [greeting],
      log,
    });
    http.app.get('/direct', async () => 'added on app before start');
    http.addUpgradeRoute('/sip', (req, socket, head, context) => ws.handleUpgrade(req, socket, head, context.secure));
    const [plain, secure] = await http.start();
    httpPort = plain!.port;
    httpsPort = secure!.port;
  });

  after(async () => {
    for (const c of clients) c.destroy();
    ws.close();
    await http.stop();
    await layer.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz, routes of plugins and of app, and / naming the WebSocket services, on both listeners', async () => {
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${httpPort}/hello`)).json(), { hello: 'from a plugin' });
    assert.equal(await (await fetch(`http://127.0.0.1:${httpPort}/direct`)).text(), 'added on app before start');
    const root = await fetch(`http://127.0.0.1:${httpPort}/`);
    assert.match(await root.text(), new RegExp(`ws://127\\.0\\.0\\.1:${httpPort}/sip`));
    const secureRoot = await httpsGet(httpsPort, '/', certificate.cert);
    assert.equal(secureRoot.status, 200);
    assert.match(secureRoot.body, new RegExp(`wss://127\\.0\\.0\\.1:${httpsPort}/sip`));
    assert.equal((await httpsGet(httpsPort, '/healthz', certificate.cert)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/nothing-here`)).status, 404);
  });

  it('redirects / to /phone once a module serves it', async () => {
    const other = new HttpServer({
      listeners: [{ transport: 'http', address: '127.0.0.1', port: 0 }],
      plugins: [async (app) => void app.get('/phone', async () => 'the phone')],
    });
    const [l] = await other.start();
    try {
      const r = await fetch(`http://127.0.0.1:${l!.port}/`, { redirect: 'manual' });
      assert.equal(r.status, 302);
      assert.equal(r.headers.get('location'), '/phone');
    } finally {
      await other.stop();
    }
  });

  it('refuses an upgrade on a path without a service (404) and one that is not a WebSocket (400)', async () => {
    const nowhere = await client({ port: httpPort, path: '/rooms' });
    assert.equal(nowhere.status, 404);
    const h2c = await client({ port: httpPort, upgrade: 'h2c' });
    assert.equal(h2c.status, 400);
    assert.equal(layer.connections.size, 0);
  });

  it('accepts SIP over WebSocket with the query ignored, from the same origin, a configured origin, or no Origin', async () => {
    const same = await client({ port: httpPort, path: '/sip?token=1', origin: `http://127.0.0.1:${httpPort}` });
    assert.equal(same.status, 101);
    const configured = await client({ port: httpsPort, tls: { ca: certificate.cert }, origin: 'https://phone.example.com' });
    assert.equal(configured.status, 101);
    const sameSecure = await client({ port: httpsPort, tls: { ca: certificate.cert }, origin: `https://127.0.0.1:${httpsPort}` });
    assert.equal(sameSecure.status, 101);
    const native = await client({ port: httpPort });
    assert.equal(native.status, 101);
    await until(() => layer.connections.size === 4, 'four connections');
    assert.deepEqual([...layer.connections.values()].map((c) => c.transport).sort(), ['ws', 'ws', 'wss', 'wss']);
  });

  it('refuses a WebSocket from another origin, from null, or from the http origin of an https listener, with 403', async () => {
    const before = layer.connections.size;
    const cases: Array<[number, string, boolean, string?]> = [
      [httpPort, 'https://evil.example', false],
      [httpPort, 'null', false],
      [httpsPort, `http://127.0.0.1:${httpsPort}`, true],
      [httpPort, `http://127.0.0.1:${httpPort}`, false, 'evil.example:80'],
    ];
    for (const [port, origin, tls, hostHeader] of cases) {
      const c = await client({ port, origin, ...(tls ? { tls: { ca: certificate.cert } } : {}), ...(hostHeader === undefined ? {} : { hostHeader }) });
      assert.equal(c.status, 403, `Origin ${origin}`);
      assert.match(c.refusalBody, /not allowed/);
    }
    // same origin is judged on the Host header the browser sent
    const rebound = await client({ port: httpPort, origin: 'http://evil.example', hostHeader: 'evil.example' });
    assert.equal(rebound.status, 101, 'a page whose origin is its own Host is same-origin (see OriginPolicy on DNS rebinding)');
    rebound.destroy();
    await until(() => layer.connections.size === before, 'the table unchanged');
    assert.ok(log.lines.some((l) => /upgrade refused: Origin https:\/\/evil\.example is not allowed/.test(l.msg ?? '')));
  });

  it('speaks TLS 1.2 or later only', async () => {
    const outcome = await within(
      new Promise<string>((resolve) => {
        const s = tlsConnect({ host: '127.0.0.1', port: httpsPort, ca: certificate.cert, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
        s.once('secureConnect', () => (s.destroy(), resolve('connected')));
        s.once('error', (e) => resolve(`refused: ${e.message}`));
      }),
      'a TLS 1.1 handshake',
    );
    assert.match(outcome, /^refused: .*protocol version/, 'the server refused the version (the client can speak TLS 1.1)');
    const modern = await within(
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: httpsPort, ca: certificate.cert, servername: 'localhost', minVersion: 'TLSv1.2' });
        s.once('secureConnect', () => (resolve(s.getProtocol() ?? ''), s.destroy()));
        s.once('error', reject);
      }),
      'a TLS 1.2+ handshake',
    );
    assert.match(modern, /^TLSv1\.[23]$/);
  });

  it('fails to start, leaving nothing bound, when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const taken = (blocker.address() as { port: number }).port;
    const free = new HttpServer({ listeners: [{ transport: 'http', address: '127.0.0.1', port: 0 }, { transport: 'http', address: '127.0.0.1', port: taken }] });
    try {
      await assert.rejects(free.start(), /EADDRINUSE/);
      assert.deepEqual(free.listeners, []);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('stop() closes every socket, upgraded WebSockets included', async () => {
    const other = new HttpServer({ listeners: [{ transport: 'http', address: '127.0.0.1', port: 0 }] });
    other.addUpgradeRoute('/sip', (req, socket, head, context) => ws.handleUpgrade(req, socket, head, context.secure));
    const [l] = await other.start();
    const c = await client({ port: l!.port });
    assert.equal(c.status, 101);
    await other.stop();
    await c.waitClosed();
  });

  it('holds at most maxSocketsPerSource sockets from one source, over all its listeners; a socket that closes frees its share', async () => {
    // one host trickling headers (slowloris) held 10,000 sockets, the whole listener: every
    // browser was refused until its sockets timed out, and it reconnects as they do
    const other = new HttpServer({
      listeners: [
        { transport: 'http', address: '127.0.0.1', port: 0 },
        { transport: 'http', address: '127.0.0.1', port: 0 },
      ],
      maxSocketsPerSource: 3,
    });
    const [a, b] = await other.start();
    const open = (port: number): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      });
    const closed = (s: Socket): Promise<boolean> =>
      within(new Promise<boolean>((resolve) => (s.destroyed ? resolve(true) : s.once('close', () => resolve(true)))), 'the socket closed');
    try {
      // three slow clients: headers begun, never finished
      const slow = [await open(a!.port), await open(a!.port), await open(b!.port)];
      for (const s of slow) s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      await new Promise((r) => setTimeout(r, 100));
      const fourth = await open(b!.port);
      fourth.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(await closed(fourth), true);
      slow[0]!.destroy();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 20));
        status = await fetch(`http://127.0.0.1:${a!.port}/healthz`, { headers: { connection: 'close' } }).then((r) => r.status, () => 0);
      }
      assert.equal(status, 200, 'the share of the closed socket is free again');
      for (const s of slow) s.destroy();
    } finally {
      await other.stop();
    }
  });

  it('needs a certificate for an https listener', () => {
    assert.throws(() => new HttpServer({ listeners: [{ transport: 'https', address: '127.0.0.1', port: 0 }] }), /needs a certificate/);
  });
});
