import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROUTE_KEY_FILE } from '../sip-server/proxy/route-key.js';
import { configFromObject } from './config.js';
import { isHttpListen, parseListenSpec, recordRouteKey, reusePortAvailable, runServer, withTurnRestSecrets } from './run-server.js';
import { REST_SECRET_FILE } from '../turn/rest-secret-file.js';
import { checkRestUsername, restPassword } from '../turn/rest-credentials.js';
import pino from 'pino';

describe('parseListenSpec (--listen)', () => {
  it('reads SIP listeners', () => {
    assert.deepEqual(parseListenSpec('udp:127.0.0.1:5060'), { transport: 'udp', address: '127.0.0.1', port: 5060 });
    assert.deepEqual(parseListenSpec('tls:[::1]:5061;noauth'), { transport: 'tls', address: '::1', port: 5061, auth: false });
    assert.deepEqual(parseListenSpec('tcp::5060'), { transport: 'tcp', address: '0.0.0.0', port: 5060 });
  });

  it('reads WebSocket listeners as HTTP ones: wss (or https) and ws (or http)', () => {
    const wss = parseListenSpec('wss:0.0.0.0:8443');
    assert.deepEqual(wss, { transport: 'https', address: '0.0.0.0', port: 8443 });
    assert.ok(isHttpListen(wss));
    assert.deepEqual(parseListenSpec('ws:127.0.0.1:8080;noauth'), { transport: 'http', address: '127.0.0.1', port: 8080, auth: false });
    assert.deepEqual(parseListenSpec('https:[::]:443'), { transport: 'https', address: '::', port: 443 });
    assert.equal(isHttpListen(parseListenSpec('udp:127.0.0.1:5060')), false);
  });

  it('refuses anything else', () => {
    assert.throws(() => parseListenSpec('sctp:127.0.0.1:5060'), /bad --listen/);
    assert.throws(() => parseListenSpec('wss:127.0.0.1:70000'), /port out of range/);
    assert.throws(() => parseListenSpec('wss:127.0.0.1'), /bad --listen/);
  });
});

describe('recordRouteKey (the key of the Record-Route signatures)', () => {
  const quiet = { info: () => {}, warn: () => {} };

  it('proxy.recordRouteSecret when configured (nodes sharing dialogs): no key file is made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-rr-'));
    try {
      const config = configFromObject({ dataDir: dir, proxy: { recordRouteSecret: 'shared-by-every-node' } });
      assert.deepEqual(Buffer.from(recordRouteKey(config, quiet)), Buffer.from('shared-by-every-node'));
      assert.equal(existsSync(join(dir, ROUTE_KEY_FILE)), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('otherwise the data directory\'s key file, the same key at the next start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-rr-'));
    try {
      const config = configFromObject({ dataDir: dir });
      const first = Buffer.from(recordRouteKey(config, quiet));
      assert.equal(existsSync(join(dir, ROUTE_KEY_FILE)), true);
      assert.deepEqual(Buffer.from(recordRouteKey(config, quiet)), first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a secret shorter than 16 characters is a configuration error', () => {
    assert.throws(() => configFromObject({ proxy: { recordRouteSecret: 'short' } }), /proxy\.recordRouteSecret/);
  });
});

describe('reusePortAvailable: the workers read their own UDP sockets where SO_REUSEPORT spreads datagrams', () => {
  it('on Linux with Node 22.12+, 23.1+, 24 and later; not on Node 20 or other systems', () => {
    assert.equal(reusePortAvailable('linux', '24.21.0'), true);
    assert.equal(reusePortAvailable('linux', '26.0.0'), true);
    assert.equal(reusePortAvailable('linux', '22.12.0'), true);
    assert.equal(reusePortAvailable('linux', '23.1.0'), true);
    assert.equal(reusePortAvailable('linux', '23.0.0'), false);
    assert.equal(reusePortAvailable('linux', '22.11.0'), false);
    assert.equal(reusePortAvailable('linux', '20.20.2'), false);
    assert.equal(reusePortAvailable('darwin', '24.21.0'), false);
  });
});

describe('withTurnRestSecrets: the REST secret the TURN thread checks and the web server signs with', () => {
  const quiet = { info: () => {}, warn: () => {} };

  it('turn.restSecrets when configured: no file is made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-turn-secret-'));
    try {
      const config = configFromObject({ dataDir: dir, turn: { restSecrets: ['operator-secret'] } });
      assert.equal(withTurnRestSecrets(config, quiet), config);
      assert.equal(existsSync(join(dir, REST_SECRET_FILE)), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TURN off: no secret, no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-turn-secret-'));
    try {
      const config = configFromObject({ dataDir: dir, turn: { enabled: false } });
      assert.deepEqual(withTurnRestSecrets(config, quiet).turn.restSecrets, []);
      assert.equal(existsSync(join(dir, REST_SECRET_FILE)), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('otherwise the data directory\'s secret, made at the first start, the same at the next', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-turn-secret-'));
    try {
      const config = configFromObject({ dataDir: dir });
      const first = withTurnRestSecrets(config, quiet).turn.restSecrets;
      assert.equal(first.length, 1);
      assert.match(first[0]!, /^[0-9a-f]{64}$/);
      assert.deepEqual(withTurnRestSecrets(config, quiet).turn.restSecrets, first);
      // the rest of the configuration is untouched
      assert.deepEqual({ ...withTurnRestSecrets(config, quiet), turn: undefined }, { ...config, turn: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parley serve: POST /phone/turn-credentials with the TURN thread running and nothing configured', () => {
  it('signs with the secret of the data directory (the one the TURN thread got) and names the bound TURN listener', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-turn-route-'));
    const config = configFromObject({
      dataDir: dir,
      sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], workers: 0, domains: ['example.com'] },
      http: { listen: [{ transport: 'http', address: '127.0.0.1', port: 0 }] },
      turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] },
      routing: { watch: false },
    });
    const server = await runServer(config, pino({ level: 'silent' }));
    try {
      await server.subscribers.add({ username: 'alice', domain: 'example.com', password: 'alice-pw' });
      const web = server.web!.listeners[0]!;
      const r = await fetch(`http://127.0.0.1:${web.port}/phone/turn-credentials`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` } });
      assert.equal(r.status, 200);
      const c = (await r.json()) as { username: string; password: string; ttl: number; uris: string[] };
      const secret = readFileSync(join(dir, REST_SECRET_FILE), 'latin1').trim();
      assert.equal(c.password, restPassword(secret, c.username));
      assert.equal(c.ttl, 86400);
      const checked = checkRestUsername(c.username, Date.now() / 1000);
      assert.ok(checked.ok && checked.value.user === 'alice');
      assert.deepEqual(c.uris, [`turn:127.0.0.1:${server.turn!.listeners[0]!.port}?transport=udp`]);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parley serve: the REST API on the HTTP listener', () => {
  for (const enabled of [true, false]) {
    it(`api.enabled: ${enabled}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-api-'));
      const config = configFromObject({
        dataDir: dir,
        sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], workers: 0, domains: ['example.com'] },
        http: { listen: [{ transport: 'http', address: '127.0.0.1', port: 0 }] },
        turn: { enabled: false },
        media: { enabled: false },
        routing: { watch: false },
        api: { enabled },
      });
      const server = await runServer(config, pino({ level: 'silent' }));
      try {
        const base = `http://127.0.0.1:${server.web!.listeners[0]!.port}`;
        const token = (await server.ops.tokens.create('test', 'read')).token;
        const status = await fetch(`${base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
        const ready = await fetch(`${base}/readyz`);
        if (enabled) {
          assert.equal(status.status, 200);
          assert.deepEqual([((await status.json()) as { workers: number }).workers, ready.status], [0, 200]);
        } else {
          assert.deepEqual([status.status, ready.status], [404, 404]);
        }
      } finally {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
