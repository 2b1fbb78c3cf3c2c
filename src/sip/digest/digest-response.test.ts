/**
 * SIP-style digest responses (RFC 3261 §22.4 with RFC 7616 / RFC 8760 algorithms), each checked
 * against a computation written out here with node:crypto, independently of hash.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { computeDigestResponse, computeHa1, digestResponseEquals } from './index.js';

const h = (alg: 'md5' | 'sha256', s: string): string => createHash(alg).update(s, 'utf8').digest('hex');

describe('computeDigestResponse on SIP requests', () => {
  const cases = [
    { algorithm: 'MD5', node: 'md5', method: 'REGISTER', uri: 'sip:example.com', user: 'alice', pass: 'secret' },
    { algorithm: 'SHA-256', node: 'sha256', method: 'REGISTER', uri: 'sip:example.com', user: 'alice', pass: 'secret' },
    { algorithm: 'MD5', node: 'md5', method: 'INVITE', uri: 'sip:bob@example.com;transport=tcp', user: 'alice', pass: 'pä$$ wörd' },
    { algorithm: 'SHA-256', node: 'sha256', method: 'INVITE', uri: 'sips:bob@[2001:db8::1]:5061', user: '1001', pass: 'x' },
  ] as const;
  for (const c of cases) {
    it(`${c.algorithm} ${c.method} ${c.uri} with qop=auth matches node:crypto`, () => {
      const nonce = 'AAABjx3Zq8s-n0nce_value';
      const cnonce = '0a4f113b9c';
      const ha1 = h(c.node, `${c.user}:example.com:${c.pass}`);
      const ha2 = h(c.node, `${c.method}:${c.uri}`);
      const expected = h(c.node, `${ha1}:${nonce}:0000002a:${cnonce}:auth:${ha2}`);
      assert.equal(computeHa1(c.algorithm, c.user, 'example.com', c.pass), ha1);
      const got = computeDigestResponse({
        algorithm: c.algorithm, ha1, method: c.method, digestUri: c.uri, nonce, qop: 'auth', nc: '0000002a', cnonce,
      });
      assert.equal(got, expected);
    });
    it(`${c.algorithm} ${c.method} without qop matches node:crypto`, () => {
      const ha1 = h(c.node, `${c.user}:example.com:${c.pass}`);
      const expected = h(c.node, `${ha1}:n1:${h(c.node, `${c.method}:${c.uri}`)}`);
      assert.equal(computeDigestResponse({ algorithm: c.algorithm, ha1, method: c.method, digestUri: c.uri, nonce: 'n1' }), expected);
    });
  }

  it('uses qop and nc exactly as sent (an upper-case nc hashes differently)', () => {
    const base = { algorithm: 'MD5', ha1: h('md5', 'a:r:p'), method: 'REGISTER', digestUri: 'sip:r', nonce: 'n', qop: 'auth', cnonce: 'c' } as const;
    assert.notEqual(computeDigestResponse({ ...base, nc: '0000000a' }), computeDigestResponse({ ...base, nc: '0000000A' }));
  });

  it('throws TypeError for qop=auth-int (never offered) and for qop without nc', () => {
    const base = { algorithm: 'MD5', ha1: 'x', method: 'REGISTER', digestUri: 'sip:r', nonce: 'n' } as const;
    assert.throws(() => computeDigestResponse({ ...base, qop: 'auth-int', nc: '00000001', cnonce: 'c' }), TypeError);
    assert.throws(() => computeDigestResponse({ ...base, qop: 'auth' }), TypeError);
  });
});

describe('digestResponseEquals', () => {
  it('is true for equal hex in any case, false for different values or lengths', () => {
    assert.ok(digestResponseEquals('6629fae49393a05397450978507c4ef1', '6629FAE49393A05397450978507C4EF1'));
    assert.ok(!digestResponseEquals('6629fae49393a05397450978507c4ef1', '6629fae49393a05397450978507c4ef2'));
    assert.ok(!digestResponseEquals('6629fae49393a05397450978507c4ef1', '6629fae4'));
  });
});
