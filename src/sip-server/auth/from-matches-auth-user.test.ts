import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage, SipRequest } from '../../sip/index.js';
import { fromMatchesAuthUser, toMatchesAuthUser } from './from-matches-auth-user.js';

function request(from: string, to = '<sip:bob@example.com>'): SipRequest {
  const r = parseMessage(
    [
      'INVITE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1',
      'Max-Forwards: 70',
      `From: ${from};tag=1`,
      `To: ${to}`,
      'Call-ID: c1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  assert.ok(r.ok && r.message instanceof SipRequest);
  return r.message;
}

describe('fromMatchesAuthUser', () => {
  it('is true when the From user and host are the authenticated user and realm', () => {
    assert.ok(fromMatchesAuthUser(request('"Alice" <sip:alice@example.com>'), 'alice', 'example.com'));
    assert.ok(fromMatchesAuthUser(request('<sips:alice@EXAMPLE.com:5061;transport=tls>'), 'alice', 'example.com'));
    assert.ok(fromMatchesAuthUser(request('<sip:%61lice@example.com>'), 'alice', 'example.com'));
  });

  it('is false for another user, a user in another case, another domain, no user, or a tel URI', () => {
    assert.ok(!fromMatchesAuthUser(request('<sip:bob@example.com>'), 'alice', 'example.com'));
    assert.ok(!fromMatchesAuthUser(request('<sip:Alice@example.com>'), 'alice', 'example.com'));
    assert.ok(!fromMatchesAuthUser(request('<sip:alice@example.org>'), 'alice', 'example.com'));
    assert.ok(!fromMatchesAuthUser(request('<sip:example.com>'), 'alice', 'example.com'));
    assert.ok(!fromMatchesAuthUser(request('<tel:+15551234567>'), 'alice', 'example.com'));
  });
});

describe('toMatchesAuthUser', () => {
  it('checks the To URI the same way', () => {
    assert.ok(toMatchesAuthUser(request('<sip:alice@example.com>', '<sip:bob@example.com>'), 'bob', 'example.com'));
    assert.ok(!toMatchesAuthUser(request('<sip:alice@example.com>', '<sip:bob@example.com>'), 'alice', 'example.com'));
  });
});
