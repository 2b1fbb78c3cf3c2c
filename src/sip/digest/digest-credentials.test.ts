import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthValue } from '../grammar/digest.js';
import { parseDigestCredentials } from './index.js';

const MD5_RESPONSE = '0123456789abcdef0123456789abcdef';
const good = `username="alice", realm="example.com", nonce="n1", uri="sip:example.com", response="${MD5_RESPONSE}"`;
const parse = (v: string) => parseDigestCredentials(parseAuthValue(v));

describe('parseDigestCredentials', () => {
  it('reads RFC 2069-style credentials (no qop, no algorithm → MD5)', () => {
    const r = parse(`Digest ${good}`);
    assert.ok(r.ok);
    assert.equal(r.value.algorithm, 'MD5');
    assert.equal(r.value.qop, undefined);
    assert.equal(r.value.nc, undefined);
  });

  it('reads algorithm names case-insensitively and lower-cases the response', () => {
    const r = parse(`Digest ${good.replace(MD5_RESPONSE, MD5_RESPONSE.toUpperCase())}, algorithm=md5, qop=AUTH, nc=0000000F, cnonce="c"`);
    assert.ok(r.ok);
    assert.equal(r.value.response, MD5_RESPONSE);
    assert.equal(r.value.qop, 'AUTH');
    assert.equal(r.value.ncValue, 15);
  });

  const bad: Record<string, { value: string; kind: string; param?: string }> = {
    'Basic scheme': { value: 'Basic YWxpY2U6cw==', kind: 'not-digest' },
    'missing nonce': { value: `Digest ${good.replace('nonce="n1", ', '')}`, kind: 'missing', param: 'nonce' },
    'missing uri': { value: `Digest ${good.replace('uri="sip:example.com", ', '')}`, kind: 'missing', param: 'uri' },
    'missing response': { value: `Digest ${good.replace(`, response="${MD5_RESPONSE}"`, '')}`, kind: 'missing', param: 'response' },
    'empty username': { value: `Digest ${good.replace('"alice"', '""')}`, kind: 'missing', param: 'username' },
    'MD5-sess': { value: `Digest ${good}, algorithm=MD5-sess`, kind: 'unsupported', param: 'algorithm' },
    'SHA-512-256': { value: `Digest ${good}, algorithm=SHA-512-256`, kind: 'unsupported', param: 'algorithm' },
    'qop=auth-int': { value: `Digest ${good}, qop=auth-int, nc=00000001, cnonce="c"`, kind: 'unsupported', param: 'qop' },
    'unknown qop': { value: `Digest ${good}, qop=foo, nc=00000001, cnonce="c"`, kind: 'malformed', param: 'qop' },
    'qop without nc': { value: `Digest ${good}, qop=auth, cnonce="c"`, kind: 'missing', param: 'nc' },
    'nc not 8 hex': { value: `Digest ${good}, qop=auth, nc=1, cnonce="c"`, kind: 'malformed', param: 'nc' },
    'qop without cnonce': { value: `Digest ${good}, qop=auth, nc=00000001`, kind: 'missing', param: 'cnonce' },
    'SHA-256 with an MD5-length response': { value: `Digest ${good}, algorithm=SHA-256`, kind: 'malformed', param: 'response' },
    'response not hex': { value: `Digest ${good.replace(MD5_RESPONSE, 'z'.repeat(32))}`, kind: 'malformed', param: 'response' },
    'userhash=true': { value: `Digest ${good}, userhash=true`, kind: 'unsupported', param: 'userhash' },
  };
  for (const [name, c] of Object.entries(bad)) {
    it(`refuses ${name} (${c.kind})`, () => {
      const r = parse(c.value);
      assert.ok(!r.ok);
      assert.equal(r.error.kind, c.kind);
      if (c.param) assert.equal(r.error.param, c.param);
      assert.ok(r.error.reason.length > 0);
    });
  }
});
