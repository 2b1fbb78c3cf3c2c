import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { challengeAlgorithm, keepMd5Challenges } from './challenge-filter.js';

const challenged = (...challenges: string[]): string =>
  ['SIP/2.0 401 Unauthorized', 'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1', 'CSeq: 1 REGISTER', ...challenges, 'Content-Length: 0', '', ''].join('\r\n');

describe('digest challenges for JsSIP (MD5 only, last header wins)', () => {
  it('drops the SHA-256 challenge that follows an MD5 one (Parley by default)', () => {
    const md5 = 'WWW-Authenticate: Digest realm="example.com", nonce="n1", algorithm=MD5, qop="auth"';
    const sha = 'WWW-Authenticate: Digest realm="example.com", nonce="n1", algorithm=SHA-256, qop="auth"';
    const r = keepMd5Challenges(challenged(md5, sha));
    assert.equal(r.message, challenged(md5));
    assert.deepEqual(r.offered, ['MD5', 'SHA-256']);
  });

  it('works for 407 and Proxy-Authenticate, whatever the order and case', () => {
    const sha = 'proxy-authenticate: Digest realm="x", nonce="n", algorithm="SHA-256"';
    const md5 = 'Proxy-Authenticate: Digest realm="x", nonce="n"';
    const msg = challenged(sha, md5).replace('401 Unauthorized', '407 Proxy Authentication Required');
    assert.equal(keepMd5Challenges(msg).message, challenged(md5).replace('401 Unauthorized', '407 Proxy Authentication Required'));
  });

  it('leaves alone: no MD5 offered (JsSIP fails, the page says why), MD5 only, other responses, requests', () => {
    const sha = challenged('WWW-Authenticate: Digest realm="x", nonce="n", algorithm=SHA-256');
    assert.deepEqual(keepMd5Challenges(sha), { message: sha, offered: ['SHA-256'] });
    const md5 = challenged('WWW-Authenticate: Digest realm="x", nonce="n", algorithm=MD5');
    assert.equal(keepMd5Challenges(md5).message, md5);
    const ok = 'SIP/2.0 200 OK\r\nWWW-Authenticate: Digest algorithm=SHA-256\r\n\r\n';
    assert.deepEqual(keepMd5Challenges(ok), { message: ok, offered: [] });
    const req = 'INVITE sip:bob@x SIP/2.0\r\n\r\n';
    assert.equal(keepMd5Challenges(req).message, req);
  });

  it('keeps the body and the blank line intact', () => {
    const msg = challenged('WWW-Authenticate: Digest realm="x", nonce="n"', 'WWW-Authenticate: Digest realm="x", nonce="n", algorithm=SHA-256') + 'body';
    assert.ok(keepMd5Challenges(msg).message.endsWith('Content-Length: 0\r\n\r\nbody'));
  });

  it('reads the algorithm parameter, MD5 when absent', () => {
    assert.equal(challengeAlgorithm('Digest realm="a,algorithm=SHA-256", nonce="n"'), 'MD5');
    assert.equal(challengeAlgorithm('Digest realm="a", algorithm=sha-256'), 'SHA-256');
    assert.equal(challengeAlgorithm('Digest realm="a"'), 'MD5');
  });
});
