/**
 * The example of RFC 2617 §3.5: user "Mufasa", password "Circle Of Life" (capital O in that
 * RFC), realm "testrealm@host.com", GET /dir/index.html, qop=auth. Nonce, cnonce and response
 * are copied from the RFC. The RFC 2069 form (no qop) has no published vector: it is checked
 * against node:crypto, computed here step by step.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseAuthValue } from '../grammar/digest.js';
import { computeDigestResponse, computeHa1, parseDigestCredentials } from './index.js';

const REALM = 'testrealm@host.com';
const NONCE = 'dcd98b7102dd2f0e8b11d0f600bfb0c093';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('RFC 2617 §3.5 example', () => {
  it('computeDigestResponse gives the RFC response 6629fae49393a05397450978507c4ef1', () => {
    const response = computeDigestResponse({
      algorithm: 'MD5',
      ha1: computeHa1('MD5', 'Mufasa', REALM, 'Circle Of Life'),
      method: 'GET',
      digestUri: '/dir/index.html',
      nonce: NONCE,
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    assert.equal(response, '6629fae49393a05397450978507c4ef1');
  });

  it('parseDigestCredentials reads the RFC Authorization (no algorithm: MD5)', () => {
    const r = parseDigestCredentials(
      parseAuthValue(
        'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
          'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", ' +
          'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      ),
    );
    assert.ok(r.ok);
    assert.equal(r.value.algorithm, 'MD5');
    assert.equal(r.value.cnonce, '0a4f113b');
  });

  it('the RFC 2069 form without qop is H(HA1:nonce:HA2)', () => {
    const ha1 = md5('Mufasa:testrealm@host.com:Circle Of Life');
    const ha2 = md5('GET:/dir/index.html');
    const expected = md5(`${ha1}:${NONCE}:${ha2}`);
    const response = computeDigestResponse({
      algorithm: 'MD5',
      ha1: computeHa1('MD5', 'Mufasa', REALM, 'Circle Of Life'),
      method: 'GET',
      digestUri: '/dir/index.html',
      nonce: NONCE,
    });
    assert.equal(response, expected);
  });
});
