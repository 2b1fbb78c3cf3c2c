/**
 * DigestAuthenticator end to end on parsed requests. The client side (HA1, response) is computed
 * here with node:crypto, independently of src/sip/digest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuthFailedEvent } from '../../lib/events.js';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { createResponse, parseAuthValue, parseMessage, serializeToString, SipRequest, type Uri } from '../../sip/index.js';
import type { NewSubscriber, Subscriber, SubscriberStore } from '../../store/subscriber-store.js';
import { challengeHeaders, DigestAuthenticator, type AuthFailure, type AuthResult, type DigestAuthenticatorOptions } from './authenticator.js';
import { FailureLimiter } from './failure-limiter.js';
import { NonceManager } from './nonce-manager.js';

const T0 = 1_700_000_000_000;
const SOURCE = { remoteAddress: '192.0.2.10' };

const hash = (alg: string, s: string): string => createHash(alg === 'SHA-256' ? 'sha256' : 'md5').update(s, 'utf8').digest('hex');

/** A SubscriberStore in memory that counts lookups. */
class MemoryStore implements SubscriberStore {
  readonly rows = new Map<string, Subscriber>();
  gets = 0;
  async get(username: string, domain: string): Promise<Subscriber | undefined> {
    this.gets++;
    return this.rows.get(`${username}@${domain.toLowerCase()}`);
  }
  async add(s: NewSubscriber): Promise<Subscriber> {
    const row: Subscriber = {
      username: s.username,
      domain: s.domain,
      ha1Md5: hash('MD5', `${s.username}:${s.domain}:${s.password}`),
      ha1Sha256: hash('SHA-256', `${s.username}:${s.domain}:${s.password}`),
      createdAt: 0,
    };
    this.rows.set(`${s.username}@${s.domain}`, row);
    return row;
  }
  async addMany(subscribers: readonly NewSubscriber[]): Promise<number> {
    for (const s of subscribers) await this.add(s);
    return subscribers.length;
  }
  async remove(): Promise<boolean> {
    return false;
  }
  async setPassword(): Promise<boolean> {
    return false;
  }
  async list(): Promise<Subscriber[]> {
    return [...this.rows.values()];
  }
  async count(): Promise<number> {
    return this.rows.size;
  }
}

interface Setup {
  auth: DigestAuthenticator;
  store: MemoryStore;
  wall: { now: number };
  clock: FakeClock;
  limiter: FailureLimiter;
  /** Sources told to onAuthenticated, in order. */
  authenticated: string[];
  /** auth.failed events, in order. */
  failures: AuthFailedEvent[];
}

/** Both algorithms offered unless `algorithms` says otherwise (the default, MD5 alone, has its own tests). */
async function setup(options: { realms?: string[]; isLocalUri?: (u: Uri) => boolean; nonces?: NonceManager; maxFailures?: number; algorithms?: Array<'MD5' | 'SHA-256'>; algorithmsFor?: DigestAuthenticatorOptions['algorithmsFor'] } = {}): Promise<Setup> {
  const store = new MemoryStore();
  await store.add({ username: 'alice', domain: 'example.com', password: 'wonderland' });
  await store.add({ username: 'bob', domain: 'example.org', password: 'builder' });
  const wall = { now: T0 };
  const clock = new FakeClock();
  const limiter = new FailureLimiter({ clock, maxFailures: options.maxFailures ?? 10 });
  const authenticated: string[] = [];
  const failures: AuthFailedEvent[] = [];
  const auth = new DigestAuthenticator({
    onAuthenticated: (address) => authenticated.push(address),
    onFailure: (e) => failures.push(e),
    realms: options.realms ?? ['example.com'],
    subscribers: store,
    nonces: options.nonces ?? new NonceManager({ now: () => wall.now, secret: 'test secret, thirty-two bytes!!' }),
    limiter,
    isLocalUri: options.isLocalUri,
    algorithms: options.algorithms ?? ['MD5', 'SHA-256'],
    ...(options.algorithmsFor === undefined ? {} : { algorithmsFor: options.algorithmsFor }),
  });
  return { auth, store, wall, clock, limiter, authenticated, failures };
}

function request(method: string, ruri: string, extra: string[] = [], from = '<sip:alice@example.com>;tag=1', to = '<sip:alice@example.com>'): SipRequest {
  const text = [
    `${method} ${ruri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    `To: ${to}`,
    `From: ${from}`,
    'Call-ID: a84b4c76e66710@pc33.example.com',
    `CSeq: 1 ${method}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(text);
  assert.ok(r.ok && r.message instanceof SipRequest, r.ok ? 'not a request' : r.error.message);
  return r.message;
}

interface Answer {
  user?: string;
  password?: string;
  realm?: string;
  algorithm?: 'MD5' | 'SHA-256';
  nc?: string;
  uri?: string;
  qop?: string | null;
  nonce?: string;
  method?: string;
}

/** The client's credentials for a challenge, computed as a UAC would. */
function credentials(challenge: string, a: Answer & { requestUri: string; method: string }): string {
  const ch = parseAuthValue(challenge);
  const algorithm = a.algorithm ?? 'MD5';
  const realm = a.realm ?? ch.realm!;
  const nonce = a.nonce ?? ch.nonce!;
  const uri = a.uri ?? a.requestUri;
  const user = a.user ?? 'alice';
  const ha1 = hash(algorithm, `${user}:${realm}:${a.password ?? 'wonderland'}`);
  const ha2 = hash(algorithm, `${a.method}:${uri}`);
  const cnonce = 'deadbeef0123';
  const nc = a.nc ?? '00000001';
  if (a.qop === null) {
    const response = hash(algorithm, `${ha1}:${nonce}:${ha2}`);
    return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}`;
  }
  const qop = a.qop ?? 'auth';
  const response = hash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  return (
    `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", ` +
    `algorithm=${algorithm}, qop=${qop}, nc=${nc}, cnonce="${cnonce}"`
  );
}

function failure(r: AuthResult): AuthFailure {
  assert.ok(!r.ok, 'expected a failure');
  return r;
}

/** Challenge a REGISTER, answer it, return the second result. */
async function registerRound(s: Setup, answer: Answer = {}, ruri = 'sip:example.com'): Promise<{ challenge: AuthFailure; result: AuthResult; header: string }> {
  const challenge = failure(await s.auth.authenticate(request('REGISTER', ruri), SOURCE));
  const chosen = challenge.challenges[answer.algorithm === 'SHA-256' ? 1 : 0]!;
  const header = credentials(chosen, { ...answer, requestUri: ruri, method: 'REGISTER' });
  const result = await s.auth.authenticate(request('REGISTER', ruri, [`Authorization: ${header}`]), SOURCE);
  return { challenge, result, header };
}

describe('DigestAuthenticator: challenge and answer', () => {
  it('challenges a REGISTER without credentials with 401, MD5 first and SHA-256 second, one nonce', async () => {
    const s = await setup();
    const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    assert.equal(r.status, 401);
    assert.equal(r.challengeHeader, 'WWW-Authenticate');
    assert.equal(r.challenges.length, 2);
    const [md5, sha] = r.challenges.map((c) => parseAuthValue(c));
    assert.equal(md5!.algorithm, 'MD5');
    assert.equal(sha!.algorithm, 'SHA-256');
    assert.equal(md5!.realm, 'example.com');
    assert.equal(md5!.qop, 'auth');
    assert.equal(md5!.nonce, sha!.nonce);
    assert.ok(!md5!.stale);
    assert.match(r.challenges[0]!, /^Digest realm="example\.com", nonce="[A-Za-z0-9_-]+", algorithm=MD5, qop="auth"$/);
    assert.equal(s.store.gets, 0, 'no store lookup without credentials');
    assert.equal(s.limiter.size.tracked, 0, 'missing credentials are not a failure');
  });

  it('puts the MD5 challenge last for a request that came over a WebSocket (browsers read the last one), in precheck too', async () => {
    const s = await setup();
    for (const transport of ['ws', 'wss']) {
      const source = { remoteAddress: '192.0.2.10', transport };
      const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), source));
      assert.deepEqual(r.challenges.map((c) => parseAuthValue(c).algorithm), ['SHA-256', 'MD5'], transport);
      const p = s.auth.precheck(request('REGISTER', 'sip:example.com'), source);
      assert.deepEqual(p?.challenges.map((c) => parseAuthValue(c).algorithm), ['SHA-256', 'MD5'], `${transport} precheck`);
    }
    for (const transport of ['udp', 'tcp', 'tls', undefined]) {
      const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), { remoteAddress: '192.0.2.10', ...(transport ? { transport } : {}) }));
      assert.deepEqual(r.challenges.map((c) => parseAuthValue(c).algorithm), ['MD5', 'SHA-256'], String(transport));
    }
  });

  it('accepts the MD5 answer to a REGISTER challenge', async () => {
    const s = await setup();
    const { result } = await registerRound(s);
    assert.deepEqual(result, { ok: true, username: 'alice', realm: 'example.com', algorithm: 'MD5' });
    assert.deepEqual(s.authenticated, [SOURCE.remoteAddress], 'the success is told (the connection reserve), the challenge is not');
  });

  it('accepts the SHA-256 answer to a REGISTER challenge', async () => {
    const s = await setup();
    const { result } = await registerRound(s, { algorithm: 'SHA-256' });
    assert.deepEqual(result, { ok: true, username: 'alice', realm: 'example.com', algorithm: 'SHA-256' });
  });

  it('challenges an INVITE with 407 Proxy-Authenticate and accepts Proxy-Authorization (SHA-256)', async () => {
    const s = await setup();
    const ruri = 'sip:bob@example.com;transport=tcp';
    const c = failure(await s.auth.authenticate(request('INVITE', ruri), SOURCE));
    assert.equal(c.status, 407);
    assert.equal(c.challengeHeader, 'Proxy-Authenticate');
    const header = credentials(c.challenges[1]!, { algorithm: 'SHA-256', requestUri: ruri, method: 'INVITE' });
    // an Authorization header is not what a proxy reads
    const wrongHeader = failure(await s.auth.authenticate(request('INVITE', ruri, [`Authorization: ${header}`]), SOURCE));
    assert.equal(wrongHeader.status, 407);
    const r = await s.auth.authenticate(request('INVITE', ruri, [`Proxy-Authorization: ${header}`]), SOURCE);
    assert.deepEqual(r, { ok: true, username: 'alice', realm: 'example.com', algorithm: 'SHA-256' });
  });

  it('accepts RFC 2069-style credentials (no qop) once per nonce', async () => {
    const s = await setup();
    const { result, header } = await registerRound(s, { qop: null });
    assert.ok(result.ok);
    const again = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE));
    assert.equal(again.status, 401);
    assert.ok(parseAuthValue(again.challenges[0]!).stale);
  });

  it('picks the realm from the To domain of a REGISTER among several realms', async () => {
    const s = await setup({ realms: ['example.com', 'example.org'] });
    const ruri = 'sip:example.org';
    const c = failure(await s.auth.authenticate(request('REGISTER', ruri, [], '<sip:bob@example.org>;tag=1', '<sip:bob@example.org>'), SOURCE));
    assert.equal(parseAuthValue(c.challenges[0]!).realm, 'example.org');
    const header = credentials(c.challenges[0]!, { user: 'bob', password: 'builder', requestUri: ruri, method: 'REGISTER' });
    const r = await s.auth.authenticate(request('REGISTER', ruri, [`Authorization: ${header}`], '<sip:bob@example.org>;tag=1', '<sip:bob@example.org>'), SOURCE);
    assert.deepEqual(r, { ok: true, username: 'bob', realm: 'example.org', algorithm: 'MD5' });
  });
});

describe('DigestAuthenticator: failures look alike', () => {
  /** The response a server would send, with every nonce replaced. */
  function responseText(req: SipRequest, r: AuthFailure): string {
    const res = createResponse(req, r.status, { toTag: 'fixedtag', headers: challengeHeaders(r) });
    return serializeToString(res).replace(/nonce="[^"]*"/g, 'nonce="…"');
  }

  it('answers a wrong password and an unknown user byte for byte alike (but the nonce), and counts both', async () => {
    const s = await setup();
    const wrong = await registerRound(s, { password: 'not it' });
    const unknown = await registerRound(s, { user: 'mallory' });
    const a = failure(wrong.result);
    const b = failure(unknown.result);
    assert.equal(a.status, b.status);
    assert.deepEqual(a.challenges.map((c) => c.replace(/nonce="[^"]*"/, '')), b.challenges.map((c) => c.replace(/nonce="[^"]*"/, '')));
    const req = request('REGISTER', 'sip:example.com');
    assert.equal(responseText(req, a), responseText(req, b));
    assert.notEqual(parseAuthValue(a.challenges[0]!).nonce, parseAuthValue(b.challenges[0]!).nonce);
    assert.ok(!parseAuthValue(a.challenges[0]!).stale);
    assert.match(a.reason, /wrong password/);
    assert.match(b.reason, /unknown user/);
    assert.equal(s.store.gets, 2, 'the unknown user was looked up too');
    assert.deepEqual(s.authenticated, [], 'a failure is no success');
    // the operator's auth.failed events: one each, with the username tried
    assert.deepEqual(
      s.failures.map((e) => [e.type, e.source, e.username, e.realm, e.method]),
      [
        ['auth.failed', '192.0.2.10', 'alice', 'example.com', 'REGISTER'],
        ['auth.failed', '192.0.2.10', 'mallory', 'example.com', 'REGISTER'],
      ],
    );
  });

  it('counts wrong digests in the limiter, then answers 403 without touching the store', async () => {
    const s = await setup({ maxFailures: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await registerRound(s, { password: 'guess' + i })).result.ok, false);
    const gets = s.store.gets;
    const blocked = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    assert.equal(blocked.status, 403);
    assert.equal(blocked.blocked, true);
    assert.deepEqual(blocked.challenges, []);
    assert.deepEqual(challengeHeaders(blocked), []);
    // even the right password is refused while blocked
    const right = failure(
      await s.auth.authenticate(request('REGISTER', 'sip:example.com', ['Authorization: Digest username="alice", realm="example.com", nonce="x", uri="sip:example.com", response="00000000000000000000000000000000"']), SOURCE),
    );
    assert.equal(right.status, 403);
    assert.equal(s.store.gets, gets);
    // another source is not blocked
    const other = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), { remoteAddress: '198.51.100.20' }));
    assert.equal(other.status, 401);
    // the block ends
    s.clock.advance(300_000);
    assert.ok((await registerRound(s)).result.ok);
  });
});

describe('DigestAuthenticator: nonces', () => {
  it('answers an expired nonce with the right password by stale=TRUE, and does not count it', async () => {
    const s = await setup();
    const c = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    s.wall.now += 301_000;
    const header = credentials(c.challenges[0]!, { requestUri: 'sip:example.com', method: 'REGISTER' });
    const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE));
    assert.equal(r.status, 401);
    assert.ok(r.challenges.every((ch) => parseAuthValue(ch).stale));
    assert.ok(r.challenges.every((ch) => ch.endsWith(', stale=TRUE')));
    assert.equal(s.limiter.size.tracked, 0);
    // the fresh nonce works
    const again = credentials(r.challenges[0]!, { requestUri: 'sip:example.com', method: 'REGISTER' });
    assert.ok((await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${again}`]), SOURCE)).ok);
  });

  it('answers an expired nonce with a wrong password without stale (RFC 2617 §3.2.1)', async () => {
    const s = await setup();
    const c = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    s.wall.now += 301_000;
    const header = credentials(c.challenges[0]!, { password: 'nope', requestUri: 'sip:example.com', method: 'REGISTER' });
    const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE));
    assert.equal(r.status, 401);
    assert.ok(!parseAuthValue(r.challenges[0]!).stale);
    assert.equal(s.limiter.size.tracked, 1);
  });

  it('refuses a tampered nonce: stale challenge with the right password, plain one with a wrong one', async () => {
    const s = await setup();
    const c = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    const real = parseAuthValue(c.challenges[0]!).nonce!;
    const tampered = real.slice(0, 10) + (real[10] === 'A' ? 'B' : 'A') + real.slice(11);
    assert.notEqual(tampered, real);
    for (const [password, stale] of [['wonderland', true], ['nope', false]] as const) {
      const header = credentials(c.challenges[0]!, { nonce: tampered, password, requestUri: 'sip:example.com', method: 'REGISTER' });
      const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE));
      assert.equal(r.status, 401);
      assert.equal(parseAuthValue(r.challenges[0]!).stale, stale, password);
    }
  });

  it('answers a nonce from before a restart (another secret) with the right password by stale=TRUE', async () => {
    const s = await setup();
    const old = new NonceManager({ now: () => s.wall.now }).issue('example.com');
    const header = credentials('Digest realm="example.com", nonce="x"', { nonce: old, requestUri: 'sip:example.com', method: 'REGISTER' });
    const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE));
    assert.ok(parseAuthValue(r.challenges[0]!).stale);
  });

  it('refuses a replayed nonce count and a lower one, accepts increasing ones', async () => {
    const s = await setup();
    const c = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    const send = async (nc: string) => {
      const header = credentials(c.challenges[0]!, { nc, requestUri: 'sip:example.com', method: 'REGISTER' });
      return s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE);
    };
    assert.ok((await send('00000001')).ok);
    const replay = failure(await send('00000001'));
    assert.equal(replay.status, 401);
    assert.ok(parseAuthValue(replay.challenges[0]!).stale);
    assert.match(replay.reason, /nonce count/);
    assert.ok((await send('00000002')).ok);
    assert.ok((await send('0000000a')).ok);
    assert.ok(!(await send('00000009')).ok);
    assert.ok((await send('0000000b')).ok);
    assert.equal(s.limiter.size.tracked, 0, 'replays are not password failures');
  });
});

describe('DigestAuthenticator: what credentials count', () => {
  it('ignores credentials for another realm: a plain challenge, no lookup, no failure', async () => {
    const s = await setup();
    const c = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    const header = credentials(c.challenges[0]!, { realm: 'other.net', requestUri: 'sip:example.com', method: 'REGISTER' });
    const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE));
    assert.equal(r.status, 401);
    assert.ok(!parseAuthValue(r.challenges[0]!).stale);
    assert.equal(s.store.gets, 0);
    assert.equal(s.limiter.size.tracked, 0);
  });

  it('uses our realm\'s credentials when another realm\'s come first', async () => {
    const s = await setup();
    const c = failure(await s.auth.authenticate(request('INVITE', 'sip:bob@example.com'), SOURCE));
    const theirs = credentials(c.challenges[0]!, { realm: 'upstream.net', requestUri: 'sip:bob@example.com', method: 'INVITE' });
    const ours = credentials(c.challenges[0]!, { requestUri: 'sip:bob@example.com', method: 'INVITE' });
    const r = await s.auth.authenticate(request('INVITE', 'sip:bob@example.com', [`Proxy-Authorization: ${theirs}`, `Proxy-Authorization: ${ours}`]), SOURCE);
    assert.ok(r.ok);
  });

  it('refuses a digest uri that is not the Request-URI with 400', async () => {
    const s = await setup();
    const { result } = await registerRound(s, { uri: 'sip:elsewhere.example.net' });
    const r = failure(result);
    assert.equal(r.status, 400);
    assert.deepEqual(r.challenges, []);
    assert.match(r.reason, /not the Request-URI/);
  });

  it('accepts a digest uri that names this server (sipp: sip:HOST:PORT) when isLocalUri says so', async () => {
    const isLocalUri = (u: Uri) => u.kind === 'sip' && u.host === '192.0.2.1' && u.port === 5060 && u.user === undefined;
    const s = await setup({ isLocalUri });
    assert.ok((await registerRound(s, { uri: 'sip:192.0.2.1:5060' })).result.ok);
    assert.equal(failure((await registerRound(s, { uri: 'sip:192.0.2.1:5080' })).result).status, 400);
    const strict = await setup();
    assert.equal(failure((await registerRound(strict, { uri: 'sip:192.0.2.1:5060' })).result).status, 400);
  });

  it('compares the digest uri as a URI (RFC 3261 §19.1.4), not as text', async () => {
    const s = await setup();
    assert.ok((await registerRound(s, { uri: 'sip:EXAMPLE.com' })).result.ok);
  });

  it('refuses improper credentials with 400: qop=auth-int, MD5-sess, missing nonce, malformed header', async () => {
    const s = await setup();
    const c = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    const good = credentials(c.challenges[0]!, { requestUri: 'sip:example.com', method: 'REGISTER' });
    const cases = {
      'auth-int': good.replace('qop=auth', 'qop=auth-int'),
      'MD5-sess': good.replace('algorithm=MD5', 'algorithm=MD5-sess'),
      'no nonce': good.replace(/nonce="[^"]*", /, ''),
      malformed: 'Digest username="alice", realm="example.com", nonce="unterminated',
    };
    for (const [name, header] of Object.entries(cases)) {
      const r = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${header}`]), SOURCE));
      assert.equal(r.status, 400, name);
      assert.ok(r.reason.length > 0);
    }
    assert.equal(s.store.gets, 0);
    assert.equal(s.limiter.size.tracked, 0);
  });

  it('offers MD5 alone by default (libre 1.x gives up on any SHA-256 challenge), and accepts only it', async () => {
    const store = new MemoryStore();
    await store.add({ username: 'alice', domain: 'example.com', password: 'wonderland' });
    const auth = new DigestAuthenticator({ realms: ['example.com'], subscribers: store });
    for (const transport of ['udp', 'tcp', 'tls', 'wss']) {
      const c = failure(await auth.authenticate(request('REGISTER', 'sip:example.com'), { remoteAddress: '192.0.2.10', transport }));
      assert.deepEqual(c.challenges.map((v) => parseAuthValue(v).algorithm), ['MD5'], transport);
    }
    const c = failure(await auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    const sha = credentials(c.challenges[0]!, { algorithm: 'SHA-256', requestUri: 'sip:example.com', method: 'REGISTER' });
    const r = failure(await auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${sha}`]), SOURCE));
    assert.equal(r.status, 401, 'SHA-256 credentials are re-challenged where SHA-256 is not offered');
    const md5 = credentials(c.challenges[0]!, { algorithm: 'MD5', requestUri: 'sip:example.com', method: 'REGISTER' });
    const ok = await auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${md5}`]), SOURCE);
    assert.deepEqual(ok, { ok: true, username: 'alice', realm: 'example.com', algorithm: 'MD5' });
  });

  it('offers and accepts per source what algorithmsFor says (a listener of its own), the rest gets `algorithms`', async () => {
    const s = await setup({
      algorithms: ['MD5'],
      algorithmsFor: (source) => (source.localPort === 5062 ? ['SHA-256', 'MD5'] : ['MD5']),
    });
    const modern = { remoteAddress: '192.0.2.10', transport: 'udp', localPort: 5062 };
    const plain = { remoteAddress: '192.0.2.10', transport: 'udp', localPort: 5060 };
    const c = failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), modern));
    assert.deepEqual(c.challenges.map((v) => parseAuthValue(v).algorithm), ['SHA-256', 'MD5']);
    assert.deepEqual(s.auth.precheck(request('REGISTER', 'sip:example.com'), modern)?.challenges.map((v) => parseAuthValue(v).algorithm), ['SHA-256', 'MD5'], 'precheck');
    assert.deepEqual(failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com'), plain)).challenges.map((v) => parseAuthValue(v).algorithm), ['MD5']);
    assert.deepEqual(s.auth.challenge('proxy', 'example.com', false, 'script', modern).challenges.map((v) => parseAuthValue(v).algorithm), ['SHA-256', 'MD5'], 'challenge(source)');
    assert.deepEqual(s.auth.challenge('proxy', 'example.com', false, 'script').challenges.map((v) => parseAuthValue(v).algorithm), ['MD5'], 'challenge() without a source');

    const sha = credentials(c.challenges[0]!, { algorithm: 'SHA-256', requestUri: 'sip:example.com', method: 'REGISTER' });
    assert.equal(failure(await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${sha}`]), plain)).status, 401, 'SHA-256 refused where only MD5 is offered');
    const r = await s.auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${sha}`]), modern);
    assert.deepEqual(r, { ok: true, username: 'alice', realm: 'example.com', algorithm: 'SHA-256' });
  });

  it('re-challenges credentials with an algorithm that is not offered', async () => {
    const store = new MemoryStore();
    await store.add({ username: 'alice', domain: 'example.com', password: 'wonderland' });
    const auth = new DigestAuthenticator({ realms: ['example.com'], subscribers: store, algorithms: ['SHA-256'] });
    const c = failure(await auth.authenticate(request('REGISTER', 'sip:example.com'), SOURCE));
    assert.equal(c.challenges.length, 1);
    assert.equal(parseAuthValue(c.challenges[0]!).algorithm, 'SHA-256');
    const md5 = credentials(c.challenges[0]!, { algorithm: 'MD5', requestUri: 'sip:example.com', method: 'REGISTER' });
    const r = failure(await auth.authenticate(request('REGISTER', 'sip:example.com', [`Authorization: ${md5}`]), SOURCE));
    assert.equal(r.status, 401);
    assert.equal(store.gets, 0);
  });
});
