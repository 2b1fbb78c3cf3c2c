import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { FailureLimiter } from '../sip-server/auth/failure-limiter.js';
import { MemorySubscriberStore } from '../store/memory-subscriber-store.js';
import { RestSecrets, checkRestUsername, restPassword } from '../turn/rest-credentials.js';
import {
  TURN_CREDENTIALS_PATH,
  mayCarryPassword,
  pageHost,
  parseBasicAuthorization,
  passwordMatches,
  registerTurnCredentialsRoute,
  turnUris,
  type TurnCredentialSource,
} from './turn-credentials-route.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('parseBasicAuthorization (RFC 7617)', () => {
  it('reads user and password, the password may hold colons, the scheme any case, UTF-8', () => {
    assert.deepEqual(parseBasicAuthorization(basic('alice', 'se:cr:et')), { user: 'alice', password: 'se:cr:et' });
    assert.deepEqual(parseBasicAuthorization(`bAsIc ${Buffer.from('bob@example.com:pä').toString('base64')}`), { user: 'bob@example.com', password: 'pä' });
    assert.deepEqual(parseBasicAuthorization(basic('carol', '')), { user: 'carol', password: '' });
  });

  it('refuses what is not Basic, not base64, has no colon or an empty user, control characters, invalid UTF-8, or is too long', () => {
    for (const h of [
      undefined,
      '',
      'Digest username="alice"',
      'Basic',
      'Basic ',
      'Basic !!!!',
      'Basic YWxpY2U', // length not a multiple of 4
      `Basic ${Buffer.from('alice').toString('base64')}`, // no colon
      `Basic ${Buffer.from(':secret').toString('base64')}`, // empty user
      `Basic ${Buffer.from('alice:se\ncret').toString('base64')}`,
      `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`, // not UTF-8
      basic('alice', 'x'.repeat(2000)),
    ]) {
      assert.equal(parseBasicAuthorization(h), undefined, String(h).slice(0, 60));
    }
  });
});

describe('passwordMatches: the stored HA1s, MD5 and SHA-256', () => {
  it('matches the right password only, and never an unknown user', async () => {
    const store = new MemorySubscriberStore();
    await store.add({ username: 'alice', domain: 'example.com', password: 'right' });
    const alice = await store.get('alice', 'example.com');
    assert.equal(passwordMatches(alice, 'alice', 'example.com', 'right'), true);
    assert.equal(passwordMatches(alice, 'alice', 'example.com', 'wrong'), false);
    assert.equal(passwordMatches(alice, 'alice', 'other.example', 'right'), false);
    assert.equal(passwordMatches(undefined, 'alice', 'example.com', 'right'), false);
  });

  it('both hashes must match: a stored SHA-256 HA1 of another password refuses', async () => {
    const store = new MemorySubscriberStore();
    const alice = await store.add({ username: 'alice', domain: 'example.com', password: 'right' });
    const other = await store.add({ username: 'bob', domain: 'example.com', password: 'other' });
    assert.equal(passwordMatches({ ...alice, ha1Sha256: other.ha1Sha256 }, 'alice', 'example.com', 'right'), false);
    assert.equal(passwordMatches({ ...alice, ha1Md5: other.ha1Md5 }, 'alice', 'example.com', 'right'), false);
  });
});

describe('who may carry a password: TLS, or plain HTTP between loopback ends', () => {
  it('decides by the connection', () => {
    assert.equal(mayCarryPassword({ encrypted: true, localAddress: '192.0.2.1', remoteAddress: '198.51.100.7' }), true);
    assert.equal(mayCarryPassword({ localAddress: '127.0.0.1', remoteAddress: '127.0.0.1' }), true);
    assert.equal(mayCarryPassword({ localAddress: '::ffff:127.0.0.1', remoteAddress: '::ffff:127.0.0.2' }), true);
    assert.equal(mayCarryPassword({ localAddress: '::1', remoteAddress: '::1' }), true);
    assert.equal(mayCarryPassword({ localAddress: '192.0.2.1', remoteAddress: '198.51.100.7' }), false);
    assert.equal(mayCarryPassword({ localAddress: '0.0.0.0', remoteAddress: '127.0.0.1' }), false);
    assert.equal(mayCarryPassword({ remoteAddress: '127.0.0.1' }), false);
    assert.equal(mayCarryPassword({ localAddress: '::ffff:10.0.0.1', remoteAddress: '::ffff:127.0.0.1' }), false);
  });
});

describe('pageHost and turnUris: the URLs of the TURN listeners', () => {
  it('takes the Host header without port or brackets, and refuses anything else', () => {
    assert.equal(pageHost('Parley.Example.com:8443'), 'parley.example.com');
    assert.equal(pageHost('192.0.2.5'), '192.0.2.5');
    assert.equal(pageHost('[2001:db8::1]:8443'), '2001:db8::1');
    for (const h of [undefined, '', ':8443', 'a b', 'evil"host', '[2001:db8::1', '[zz]:1', 'x'.repeat(300)]) assert.equal(pageHost(h), undefined, String(h));
  });

  it('names a wildcard listener by the page host, a specific one by its address; turns: for TLS', () => {
    const listeners = [
      { transport: 'udp' as const, address: '0.0.0.0', port: 3478 },
      { transport: 'tcp' as const, address: '0.0.0.0', port: 3478 },
      { transport: 'tls' as const, address: '::', port: 5349 },
      { transport: 'udp' as const, address: '2001:db8::7', port: 3478 },
    ];
    assert.deepEqual(turnUris(listeners, 'parley.example.com'), [
      'turn:parley.example.com:3478?transport=udp',
      'turn:parley.example.com:3478?transport=tcp',
      'turns:parley.example.com:5349?transport=tcp',
      'turn:[2001:db8::7]:3478?transport=udp',
    ]);
    assert.deepEqual(turnUris(listeners.slice(0, 1), '2001:db8::1'), ['turn:[2001:db8::1]:3478?transport=udp']);
  });
});

describe(`POST ${TURN_CREDENTIALS_PATH}`, () => {
  const SECRET = 'test-secret';
  const NOW_S = Math.floor(Date.now() / 1000);
  let app: FastifyInstance;
  let base: string;
  let turnOn = true;
  let limiter: FailureLimiter;
  const store = new MemorySubscriberStore();
  const secrets = new RestSecrets([SECRET]);
  const source: TurnCredentialSource = {
    make: (user) => secrets.make(user, 3600, NOW_S),
    uris: (host) => turnUris([{ transport: 'udp', address: '0.0.0.0', port: 3478 }, { transport: 'tcp', address: '127.0.0.1', port: 3478 }], host),
  };

  before(async () => {
    await store.add({ username: 'alice', domain: 'example.com', password: 'alice-pw' });
    await store.add({ username: 'dave', domain: 'other.example', password: 'dave-pw' });
    app = Fastify();
    registerTurnCredentialsRoute(app, {
      subscribers: store,
      domain: () => 'example.com',
      turn: () => (turnOn ? source : undefined),
      limiter: { isBlocked: (a) => limiter.isBlocked(a), recordFailure: (a) => limiter.recordFailure(a) },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    turnOn = true;
    limiter = new FailureLimiter({ maxFailures: 4, window: 60, blockTime: 300 });
  });
  after(async () => {
    await app.close();
  });

  const post = (headers: Record<string, string> = {}, body?: string): Promise<Response> => fetch(`${base}${TURN_CREDENTIALS_PATH}`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
  /** With a Host header of our choosing (fetch may not set one). */
  const postWithHost = (host: string, authorization: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}${TURN_CREDENTIALS_PATH}`, { method: 'POST', headers: { host, authorization } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('gives REST credentials the TURN server accepts, for the SIP login, with the listeners\' URLs', async () => {
    const plain = await post({ authorization: basic('alice', 'alice-pw') });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('cache-control'), 'no-store');
    const r = await postWithHost('parley.example.com:8443', basic('alice', 'alice-pw'));
    assert.equal(r.status, 200);
    const c = JSON.parse(r.body) as { username: string; password: string; ttl: number; uris: string[] };
    assert.equal(c.username, `${NOW_S + 3600}:alice`);
    assert.equal(c.password, restPassword(SECRET, c.username));
    assert.equal(c.ttl, 3600);
    assert.deepEqual(c.uris, ['turn:parley.example.com:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
    // what the TURN thread checks: the username names alice and has not expired
    const checked = checkRestUsername(c.username, NOW_S);
    assert.ok(checked.ok && checked.value.user === 'alice');
  });

  it('user@domain logs in a subscriber of another domain', async () => {
    const r = await post({ authorization: basic('dave@Other.Example', 'dave-pw') });
    assert.equal(r.status, 200);
    assert.match(((await r.json()) as { username: string }).username, /:dave$/);
  });

  it('answers an unknown user, a wrong password, a malformed and a missing Authorization with the same 401', async () => {
    const answers = [];
    for (const auth of [basic('mallory', 'alice-pw'), basic('alice', 'wrong'), 'Basic %%%%', undefined]) {
      const r = await post(auth === undefined ? {} : { authorization: auth });
      answers.push({ status: r.status, challenge: r.headers.get('www-authenticate'), body: await r.text() });
    }
    for (const a of answers) assert.deepEqual(a, { status: 401, challenge: 'Basic realm="example.com", charset="UTF-8"', body: '{"error":"wrong username or password"}' });
  });

  it('counts wrong logins in the shared failure limiter and refuses a blocked source (429) before looking at its password', async () => {
    // a request without credentials is no failure
    await post();
    for (let i = 0; i < 4; i++) assert.equal((await post({ authorization: basic('alice', `guess${i}`) })).status, 401);
    assert.equal(limiter.isBlocked('127.0.0.1'), true);
    const r = await post({ authorization: basic('alice', 'alice-pw') });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '60');
  });

  it('a block decided by SIP (the same limiter) refuses the route too', async () => {
    for (let i = 0; i < 4; i++) limiter.recordFailure('127.0.0.1');
    assert.equal((await post({ authorization: basic('alice', 'alice-pw') })).status, 429);
  });

  it('answers 404 while TURN is off, without checking the password', async () => {
    turnOn = false;
    const r = await post({ authorization: basic('alice', 'wrong') });
    assert.equal(r.status, 404);
    assert.match(await r.text(), /runs no TURN server/);
    assert.equal(limiter.isBlocked('127.0.0.1'), false);
  });

  it('refuses plain HTTP from or to an address that is not loopback (403), before any password is read', async () => {
    const r = await app.inject({ method: 'POST', url: TURN_CREDENTIALS_PATH, remoteAddress: '192.0.2.9', headers: { authorization: basic('alice', 'alice-pw') } });
    assert.equal(r.statusCode, 403);
    assert.match(r.body, /HTTPS only/);
  });

  it('refuses a body over 1 KiB (413) and other methods', async () => {
    const big = await post({ authorization: basic('alice', 'alice-pw'), 'content-type': 'application/json' }, JSON.stringify({ x: 'y'.repeat(2000) }));
    assert.equal(big.status, 413);
    const get = await fetch(`${base}${TURN_CREDENTIALS_PATH}`, { headers: { authorization: basic('alice', 'alice-pw') } });
    assert.equal(get.status, 404);
  });
});
