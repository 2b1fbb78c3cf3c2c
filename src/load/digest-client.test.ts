/**
 * The client side of digest, on the published examples:
 * - RFC 7616 §3.9.1 ("Example with SHA-256 and MD5"): user "Mufasa", password "Circle of Life",
 *   realm "http-auth@example.org", GET /dir/index.html, two WWW-Authenticate values (SHA-256
 *   first, then MD5), the client's cnonce and both responses as printed in the RFC.
 * - RFC 2617 §3.5: password "Circle Of Life" (capital O), realm "testrealm@host.com", cnonce
 *   "0a4f113b", response 6629fae49393a05397450978507c4ef1.
 * The responses are the RFCs' facts, not computed here.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseMessage } from '../sip/message/parse.js';
import type { SipResponse } from '../sip/message/sip-message.js';
import { parseAuthValue } from '../sip/grammar/digest.js';
import { computeDigestResponse, computeHa1, parseDigestCredentials } from '../sip/digest/index.js';
import { DigestClient } from './digest-client.js';

const RFC7616 = {
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  md5: '8ca523f5e9506fed4657c9700eebdbec',
  sha256: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
};

const RFC2617 = {
  challenge:
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  response: '6629fae49393a05397450978507c4ef1',
};

/** The RFC 7616 §3.9.1 challenge values, in the RFC's order (SHA-256, then MD5). */
function rfc7616Challenges(): string[] {
  return ['SHA-256', 'MD5'].map(
    (alg) => `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=${alg}, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`,
  );
}

/** A SIP response carrying `values` in `header` fields, parsed by Parley's parser. */
function challengeResponse(status: 401 | 407, values: readonly string[]): SipResponse {
  const header = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  const text =
    `SIP/2.0 ${status} ${status === 401 ? 'Unauthorized' : 'Proxy Authentication Required'}\r\n` +
    'Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKabc\r\nFrom: <sip:alice@example.com>;tag=1\r\n' +
    'To: <sip:alice@example.com>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n' +
    values.map((v) => `${header}: ${v}\r\n`).join('') +
    'Content-Length: 0\r\n\r\n';
  const r = parseMessage(text);
  assert.ok(r.ok && !r.message.isRequest, 'the test response parses');
  return r.message as SipResponse;
}

/** The params of a credentials value, unquoted. */
function paramsOf(value: string): ReadonlyMap<string, string> {
  return parseAuthValue(value).params;
}

describe('DigestClient on RFC 7616 §3.9.1', () => {
  it('takes the topmost challenge it can answer (SHA-256) and gives the RFC response', () => {
    const client = new DigestClient({ username: 'Mufasa', password: 'Circle of Life', cnonce: () => RFC7616.cnonce });
    const outcome = client.acceptResponse(challengeResponse(401, rfc7616Challenges()));
    assert.deepEqual(outcome, { ok: true, realm: RFC7616.realm, algorithm: 'SHA-256', stale: false });
    const [name, value] = client.authorization('GET', '/dir/index.html')!;
    assert.equal(name, 'Authorization');
    const p = paramsOf(value);
    assert.equal(p.get('response'), RFC7616.sha256);
    assert.equal(p.get('username'), 'Mufasa');
    assert.equal(p.get('realm'), RFC7616.realm);
    assert.equal(p.get('uri'), '/dir/index.html');
    assert.equal(p.get('algorithm'), 'SHA-256');
    assert.equal(p.get('qop'), 'auth');
    assert.equal(p.get('nc'), '00000001');
    assert.equal(p.get('cnonce'), RFC7616.cnonce);
    assert.equal(p.get('opaque'), RFC7616.opaque);
  });

  it('with algorithm MD5 required, skips SHA-256 and gives the RFC MD5 response', () => {
    const client = new DigestClient({ username: 'Mufasa', password: 'Circle of Life', algorithm: 'MD5', cnonce: () => RFC7616.cnonce });
    const outcome = client.acceptResponse(challengeResponse(401, rfc7616Challenges()));
    assert.ok(outcome.ok && outcome.algorithm === 'MD5');
    assert.equal(paramsOf(client.authorization('GET', '/dir/index.html')![1]).get('response'), RFC7616.md5);
  });

  it('a wrong password does not give the RFC response', () => {
    const client = new DigestClient({ username: 'Mufasa', password: 'Circle Of Life', cnonce: () => RFC7616.cnonce });
    client.acceptResponse(challengeResponse(401, rfc7616Challenges()));
    assert.notEqual(paramsOf(client.authorization('GET', '/dir/index.html')![1]).get('response'), RFC7616.sha256);
  });

  it("the credentials are read back by Parley's server-side parser and verify", () => {
    const client = new DigestClient({ username: 'Mufasa', password: 'Circle of Life' });
    client.acceptResponse(challengeResponse(401, rfc7616Challenges()));
    const [, value] = client.authorization('REGISTER', 'sip:example.org')!;
    const c = parseDigestCredentials(parseAuthValue(value));
    assert.ok(c.ok, JSON.stringify(c));
    const expected = computeDigestResponse({
      algorithm: c.value.algorithm,
      ha1: computeHa1('SHA-256', 'Mufasa', RFC7616.realm, 'Circle of Life'),
      method: 'REGISTER',
      digestUri: c.value.uri,
      nonce: c.value.nonce,
      qop: c.value.qop,
      nc: c.value.nc,
      cnonce: c.value.cnonce,
    });
    assert.equal(c.value.response, expected);
    assert.equal(c.value.ncValue, 1);
  });
});

describe('DigestClient on RFC 2617 §3.5', () => {
  it('gives the RFC response (no algorithm in the challenge: MD5)', () => {
    const client = new DigestClient({ username: 'Mufasa', password: 'Circle Of Life', cnonce: () => '0a4f113b' });
    const outcome = client.acceptResponse(challengeResponse(401, [RFC2617.challenge]));
    assert.ok(outcome.ok && outcome.algorithm === 'MD5' && outcome.realm === 'testrealm@host.com');
    const p = paramsOf(client.authorization('GET', '/dir/index.html')![1]);
    assert.equal(p.get('response'), RFC2617.response);
    assert.equal(p.get('nc'), '00000001');
    assert.equal(p.get('opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
  });
});

describe('DigestClient', () => {
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

  it('counts the uses of a nonce: nc 00000001, 00000002, … and back to 1 on a new challenge', () => {
    const client = new DigestClient({ username: 'alice', password: 's' });
    client.acceptResponse(challengeResponse(401, ['Digest realm="r", nonce="n1", qop="auth"']));
    const ncs = [1, 2, 3].map(() => paramsOf(client.authorization('REGISTER', 'sip:r')![1]).get('nc'));
    assert.deepEqual(ncs, ['00000001', '00000002', '00000003']);
    assert.equal(client.nextNc, 4);
    const again = client.acceptResponse(challengeResponse(401, ['Digest realm="r", nonce="n2", qop="auth", stale=TRUE']));
    assert.ok(again.ok && again.stale, 'stale=TRUE is reported');
    const p = paramsOf(client.authorization('REGISTER', 'sip:r')![1]);
    assert.equal(p.get('nc'), '00000001');
    assert.equal(p.get('nonce'), 'n2');
  });

  it('a challenge without qop gets the RFC 2069 form: no qop, nc or cnonce', () => {
    const client = new DigestClient({ username: 'alice', password: 'pw' });
    client.acceptResponse(challengeResponse(401, ['Digest realm="example.com", nonce="abc", algorithm=MD5']));
    const p = paramsOf(client.authorization('REGISTER', 'sip:example.com')![1]);
    assert.equal(p.has('qop') || p.has('nc') || p.has('cnonce'), false);
    const expected = md5(`${md5('alice:example.com:pw')}:abc:${md5('REGISTER:sip:example.com')}`);
    assert.equal(p.get('response'), expected);
  });

  it('a 407 is answered in Proxy-Authorization', () => {
    const client = new DigestClient({ username: 'alice', password: 'pw' });
    assert.ok(client.acceptResponse(challengeResponse(407, ['Digest realm="r", nonce="n", qop="auth"'])).ok);
    assert.equal(client.authorization('INVITE', 'sip:bob@r')![0], 'Proxy-Authorization');
  });

  it('refuses challenges it cannot answer and says why', () => {
    const cases: Array<{ values: string[]; reason: RegExp; algorithm?: 'SHA-256' }> = [
      { values: ['Basic realm="r"'], reason: /no Digest challenge \(schemes: Basic\)/ },
      { values: ['Digest realm="r", nonce="n", qop="auth-int"'], reason: /qop auth-int/ },
      { values: ['Digest realm="r", nonce="n", algorithm=SHA-512-256'], reason: /algorithm SHA-512-256/ },
      { values: ['Digest realm="r", nonce="n", algorithm=MD5'], reason: /only SHA-256 allowed/, algorithm: 'SHA-256' },
      { values: [], reason: /no authenticate header/ },
    ];
    for (const c of cases) {
      const client = new DigestClient({ username: 'a', password: 'b', ...(c.algorithm ? { algorithm: c.algorithm } : {}) });
      const outcome = client.acceptResponse(challengeResponse(401, c.values));
      assert.ok(!outcome.ok, JSON.stringify(c.values));
      assert.match(outcome.reason, c.reason);
      assert.equal(client.hasChallenge, false);
      assert.equal(client.authorization('REGISTER', 'sip:r'), undefined);
    }
  });

  it('quotes a username with a quote or backslash so that the parser reads it back', () => {
    const client = new DigestClient({ username: 'we"ird\\name', password: 'pw' });
    client.acceptResponse(challengeResponse(401, ['Digest realm="r", nonce="n", qop="auth"']));
    assert.equal(paramsOf(client.authorization('REGISTER', 'sip:r')![1]).get('username'), 'we"ird\\name');
  });
});
