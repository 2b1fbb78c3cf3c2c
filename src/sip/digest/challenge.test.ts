import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthValue } from '../grammar/digest.js';
import { ParleyError } from '../../lib/errors.js';
import { buildChallenge } from './index.js';

describe('buildChallenge', () => {
  it('writes realm, nonce, opaque, algorithm and qop in that order', () => {
    assert.equal(
      buildChallenge({ realm: 'example.com', nonce: 'abc', opaque: 'xyz' }),
      'Digest realm="example.com", nonce="abc", opaque="xyz", algorithm=MD5, qop="auth"',
    );
  });

  it('adds stale=TRUE when asked and names SHA-256', () => {
    assert.equal(
      buildChallenge({ realm: 'example.com', nonce: 'abc', algorithm: 'SHA-256', stale: true }),
      'Digest realm="example.com", nonce="abc", algorithm=SHA-256, qop="auth", stale=TRUE',
    );
  });

  it('leaves qop out for qop: null', () => {
    assert.equal(buildChallenge({ realm: 'r', nonce: 'n', qop: null }), 'Digest realm="r", nonce="n", algorithm=MD5');
  });

  it('escapes quotes and backslashes so the parser reads the values back', () => {
    const v = parseAuthValue(buildChallenge({ realm: 'a"b\\c', nonce: 'n', stale: true }));
    assert.equal(v.realm, 'a"b\\c');
    assert.equal(v.qop, 'auth');
    assert.equal(v.algorithm, 'MD5');
    assert.ok(v.stale);
  });

  it('throws ERR_INVALID_ARGUMENT for a value with CR or LF', () => {
    assert.throws(() => buildChallenge({ realm: 'a\r\nVia: x', nonce: 'n' }), (e: unknown) => e instanceof ParleyError && e.code === 'ERR_INVALID_ARGUMENT');
  });
});
