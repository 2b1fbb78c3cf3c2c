import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage, SipResponse } from '../../sip/index.js';
import { challengesToMerge, chooseBestResponse } from './best-response.js';

function resp(status: number, extra: string[] = []): SipResponse {
  const r = parseMessage([`SIP/2.0 ${status} X`, 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'To: <sip:b@h>;tag=t', 'From: <sip:a@h>;tag=f',
    'Call-ID: c', 'CSeq: 1 INVITE', ...extra, 'Content-Length: 0', '', ''].join('\r\n'));
  assert.ok(r.ok && r.message instanceof SipResponse);
  return r.message as SipResponse;
}

describe('chooseBestResponse (RFC 3261 §16.7 step 6)', () => {
  it('prefers a 6xx over anything', () => {
    assert.equal(chooseBestResponse([resp(486), resp(603), resp(404)])?.status, 603);
  });
  it('takes the lowest class', () => {
    assert.equal(chooseBestResponse([resp(500), resp(404), resp(302)])?.status, 302);
    assert.equal(chooseBestResponse([resp(500), resp(486)])?.status, 486);
  });
  it('prefers a real answer over a timeout or a 503 in the same class', () => {
    assert.equal(chooseBestResponse([resp(408), resp(486)])?.status, 486);
    assert.equal(chooseBestResponse([resp(503), resp(500)])?.status, 500);
  });
  it('keeps the first of equal rank', () => {
    const a = resp(486);
    assert.equal(chooseBestResponse([a, resp(480)]), a);
  });
  it('is undefined without responses', () => {
    assert.equal(chooseBestResponse([]), undefined);
  });
});

describe('challengesToMerge (§16.7 step 7)', () => {
  it('collects the challenges of the other 401/407 responses', () => {
    const a = resp(407, ['Proxy-Authenticate: Digest realm="a", nonce="1"']);
    const b = resp(401, ['WWW-Authenticate: Digest realm="b", nonce="2"']);
    const c = resp(407, ['Proxy-Authenticate: Digest realm="c", nonce="3"']);
    assert.deepEqual(challengesToMerge(a, [a, b, c, resp(486)]), [
      ['WWW-Authenticate', 'Digest realm="b", nonce="2"'],
      ['Proxy-Authenticate', 'Digest realm="c", nonce="3"'],
    ]);
    assert.deepEqual(challengesToMerge(resp(486), [a, b]), []);
  });
});
