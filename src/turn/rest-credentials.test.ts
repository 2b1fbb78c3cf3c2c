/**
 * REST credentials against fixed values computed outside this code (Python 3's hmac, hashlib
 * and base64 modules), the username forms coturn accepts, expiry, and secret rotation. That
 * coturn's own turnserver accepts what makeRestCredentials makes is tested in
 * test/interop/turn-coturn.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRestUsername, longTermKey, makeRestCredentials, restPassword, RestSecrets } from './rest-credentials.js';

// python3: base64.b64encode(hmac.new(b'north', b'1700086400:alice', hashlib.sha1).digest())
const VECTOR = {
  secret: 'north',
  username: '1700086400:alice',
  password: 'SXua5ne/+mDhiHTp0pQJzRO4ESg=',
  realm: 'example.org',
  md5Key: '08cd2e2041cc97671aa2e1b624283feb', // hashlib.md5(b'1700086400:alice:example.org:' + password)
  sha256Key: 'eddadb0c24f400b738f33f539c7272d1a0444db2abc51db0bea546c6887aa3bc',
};

describe('makeRestCredentials', () => {
  it('username expiry:user, password base64(HMAC-SHA1(secret, username))', () => {
    const c = makeRestCredentials('north', 'alice', 86400, 1_700_000_000);
    assert.deepEqual(c, { username: VECTOR.username, password: VECTOR.password, ttl: 86400 });
  });
  it('a fractional now is floored', () => assert.equal(makeRestCredentials('north', 'alice', 86400, 1_700_000_000.9).username, VECTOR.username));
  it('carries the URIs when given', () => {
    const uris = ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'];
    assert.deepEqual(makeRestCredentials('north', 'alice', 60, 0, uris).uris, uris);
  });
  it('refuses an empty secret, an empty user, a ttl that is not a positive whole number', () => {
    assert.throws(() => makeRestCredentials('', 'alice', 60, 0));
    assert.throws(() => makeRestCredentials('s', '', 60, 0));
    for (const ttl of [0, -1, 1.5, Number.NaN]) assert.throws(() => makeRestCredentials('s', 'alice', ttl, 0), /ttl/);
  });
  it('restPassword is the vector', () => assert.equal(restPassword(VECTOR.secret, VECTOR.username), VECTOR.password));
});

describe('checkRestUsername', () => {
  const now = 1_700_000_000;
  it('expiry:user', () => assert.deepEqual(checkRestUsername('1700086400:alice', now), { ok: true, value: { user: 'alice', expiry: 1700086400 } }));
  it('expiry:user with colons in the user', () => {
    assert.deepEqual(checkRestUsername('1700086400:alice:phone', now), { ok: true, value: { user: 'alice:phone', expiry: 1700086400 } });
  });
  it('user:expiry, as coturn also accepts', () => {
    assert.deepEqual(checkRestUsername('alice:1700086400', now), { ok: true, value: { user: 'alice', expiry: 1700086400 } });
  });
  it('valid up to and including the second of the expiry', () => {
    assert.equal(checkRestUsername(`${now}:alice`, now).ok, true);
    const r = checkRestUsername(`${now - 1}:alice`, now);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.kind, 'expired');
  });
  it('expired in the user:expiry form too', () => {
    const r = checkRestUsername('alice:1600000000', now);
    assert.equal(!r.ok && r.error.kind, 'expired');
  });
  it('malformed usernames', () => {
    for (const u of ['alice', '1700086400', '1700086400:', ':alice', ':1700086400', 'alice:', 'alice:x:1700086400', 'alice:17000864OO',
      'alice:-1700086400', 'alice:+1700086400', 'alice: 1700086400', 'alice:1700086400 ', 'alice:1234567890123', '', ':']) {
      const r = checkRestUsername(u, now);
      assert.equal(r.ok, false, u);
      if (!r.ok) assert.equal(r.error.kind, 'malformed', u);
    }
  });
});

describe('long-term key', () => {
  it('MD5(username:realm:password)', () => assert.equal(longTermKey(VECTOR.username, VECTOR.realm, VECTOR.password).toString('hex'), VECTOR.md5Key));
  it('SHA-256 for PASSWORD-ALGORITHM SHA-256', () => {
    assert.equal(longTermKey(VECTOR.username, VECTOR.realm, VECTOR.password, 'SHA-256').toString('hex'), VECTOR.sha256Key);
  });
});

describe('RestSecrets (rotation)', () => {
  it('makes with the first secret', () => {
    const s = new RestSecrets(['north', 'south']);
    assert.equal(s.make('alice', 86400, 1_700_000_000).password, VECTOR.password);
  });
  it('gives one key per secret, so credentials of either secret pass', () => {
    const s = new RestSecrets(['new-secret', 'north']);
    const r = s.keys(VECTOR.username, VECTOR.realm, 1_700_000_000);
    assert.equal(r.ok, true);
    if (!r.ok) return;
    assert.equal(r.value.user, 'alice');
    assert.equal(r.value.keys.length, 2);
    assert.equal(r.value.keys[1]!.toString('hex'), VECTOR.md5Key);
    assert.notEqual(r.value.keys[0]!.toString('hex'), VECTOR.md5Key);
  });
  it('a key of a secret no longer in force is not among the keys', () => {
    const r = new RestSecrets(['other']).keys(VECTOR.username, VECTOR.realm, 1_700_000_000);
    assert.ok(r.ok && r.value.keys.every((k) => k.toString('hex') !== VECTOR.md5Key));
  });
  it('an expired username gets no keys', () => {
    const r = new RestSecrets(['north']).keys(VECTOR.username, VECTOR.realm, 1_700_086_401);
    assert.equal(!r.ok && r.error.kind, 'expired');
  });
  it('refuses no secret or an empty one', () => {
    assert.throws(() => new RestSecrets([]));
    assert.throws(() => new RestSecrets(['a', '']));
  });
});
