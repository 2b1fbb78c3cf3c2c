/**
 * The examples of RFC 7616 §3.9.1 ("Example with SHA-256 and MD5"): user "Mufasa", password
 * "Circle of Life", realm "http-auth@example.org", GET /dir/index.html. The nonce, cnonce and the
 * two responses are copied from the RFC; they are facts, not computed here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthValue } from '../grammar/digest.js';
import { computeDigestResponse, computeHa1, digestResponseEquals, parseDigestCredentials, type DigestAlgorithm } from './index.js';

const REALM = 'http-auth@example.org';
const NONCE = '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v';
const CNONCE = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
const OPAQUE = 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS';

const EXPECTED: Record<DigestAlgorithm, string> = {
  MD5: '8ca523f5e9506fed4657c9700eebdbec',
  'SHA-256': '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
};

/** The Authorization header of RFC 7616 §3.9.1, as printed (folded lines joined). */
function authorization(algorithm: DigestAlgorithm): string {
  return (
    `Digest username="Mufasa", realm="${REALM}", uri="/dir/index.html", algorithm=${algorithm}, ` +
    `nonce="${NONCE}", nc=00000001, cnonce="${CNONCE}", qop=auth, response="${EXPECTED[algorithm]}", opaque="${OPAQUE}"`
  );
}

describe('RFC 7616 §3.9.1 example', () => {
  for (const algorithm of ['MD5', 'SHA-256'] as const) {
    it(`computeDigestResponse gives the RFC's ${algorithm} response`, () => {
      const response = computeDigestResponse({
        algorithm,
        ha1: computeHa1(algorithm, 'Mufasa', REALM, 'Circle of Life'),
        method: 'GET',
        digestUri: '/dir/index.html',
        nonce: NONCE,
        qop: 'auth',
        nc: '00000001',
        cnonce: CNONCE,
      });
      assert.equal(response, EXPECTED[algorithm]);
    });

    it(`parseDigestCredentials reads the RFC's ${algorithm} Authorization and it verifies`, () => {
      const r = parseDigestCredentials(parseAuthValue(authorization(algorithm)));
      assert.ok(r.ok, JSON.stringify(r));
      const c = r.value;
      assert.deepEqual(
        { username: c.username, realm: c.realm, uri: c.uri, algorithm: c.algorithm, nc: c.nc, ncValue: c.ncValue, qop: c.qop, opaque: c.opaque },
        { username: 'Mufasa', realm: REALM, uri: '/dir/index.html', algorithm, nc: '00000001', ncValue: 1, qop: 'auth', opaque: OPAQUE },
      );
      const expected = computeDigestResponse({
        algorithm: c.algorithm,
        ha1: computeHa1(algorithm, 'Mufasa', REALM, 'Circle of Life'),
        method: 'GET',
        digestUri: c.uri,
        nonce: c.nonce,
        qop: c.qop,
        nc: c.nc,
        cnonce: c.cnonce,
      });
      assert.ok(digestResponseEquals(expected, c.response));
    });
  }

  it('a wrong password does not give the RFC response', () => {
    const response = computeDigestResponse({
      algorithm: 'MD5',
      ha1: computeHa1('MD5', 'Mufasa', REALM, 'Circle Of Life'),
      method: 'GET',
      digestUri: '/dir/index.html',
      nonce: NONCE,
      qop: 'auth',
      nc: '00000001',
      cnonce: CNONCE,
    });
    assert.ok(!digestResponseEquals(response, EXPECTED.MD5));
  });
});
