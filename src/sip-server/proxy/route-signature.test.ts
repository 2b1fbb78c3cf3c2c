import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUri } from '../../sip/index.js';
import { RouteSignature, routeTarget } from './route-signature.js';

describe('RouteSignature (the rrsig of Parley\'s Record-Route entries)', () => {
  const signatures = new RouteSignature(Buffer.alloc(32, 9));
  const callId = 'a84b4c76e66710@pc33.example.com';
  /** The callee's Contact: where the caller's requests in the dialog go. */
  const T = routeTarget(parseUri('sip:bob@192.0.2.4:5062;transport=udp'));
  const sig = signatures.sign(callId, '1928301774', T);

  it('is 96 bits of hex, valid as a SIP URI parameter value, and the same for the same dialog', () => {
    assert.match(sig, /^[0-9a-f]{24}$/);
    assert.equal(signatures.sign(callId, '1928301774', T), sig);
    const uri = parseUri(`sip:192.0.2.1:5060;lr;rrsig=${sig}`);
    assert.ok(uri.kind === 'sip' && uri.param('rrsig') === sig);
  });

  it('verifies for the caller (its From tag) and for the callee (the caller\'s tag is its To tag)', () => {
    assert.equal(signatures.verify(sig, callId, '1928301774', 'b-tag', T), true);
    assert.equal(signatures.verify(sig, callId, 'b-tag', '1928301774', T), true);
    // the forked dialogs of one INVITE (other To tags) share it
    assert.equal(signatures.verify(sig, callId, '1928301774', 'another-fork', T), true);
    // an intermediary that upper-cases the parameter does not break it
    assert.equal(signatures.verify(sig.toUpperCase(), callId, '1928301774', 'b-tag', T), true);
  });

  it('refuses a forged signature, another Call-ID (replayed), other tags (another dialog of the Call-ID)', () => {
    assert.equal(signatures.verify('0123456789abcdef01234567', callId, '1928301774', 'b-tag', T), false);
    assert.equal(signatures.verify(sig, `${callId}x`, '1928301774', 'b-tag', T), false);
    assert.equal(signatures.verify(sig, 'other-call', '1928301774', 'b-tag', T), false);
    assert.equal(signatures.verify(sig, callId, 'mallory', 'b-tag', T), false);
    assert.equal(signatures.verify(sig, callId, 'mallory', undefined, T), false);
  });

  it('refuses a signature cut short, lengthened, not hex, empty or missing', () => {
    for (const bad of [sig.slice(0, 23), sig.slice(0, 16), `${sig}0`, `${sig.slice(0, 23)}g`, '', undefined]) {
      assert.equal(signatures.verify(bad, callId, '1928301774', 'b-tag', T), false, String(bad));
    }
  });

  it('refuses a signature made under another key (another server, or a key not shared)', () => {
    const other = new RouteSignature(Buffer.alloc(32, 10));
    assert.equal(other.verify(sig, callId, '1928301774', 'b-tag', T), false);
  });

  it('binds Call-ID and tag separately (no ambiguity where one ends and the other begins)', () => {
    assert.notEqual(signatures.sign('ab', 'c', T), signatures.sign('a', 'bc', T));
    assert.notEqual(signatures.sign('a', 'b', 'c'), signatures.sign('a', 'bc', ''));
    assert.equal(signatures.verify(signatures.sign('ab', 'c', T), 'a', 'bc', undefined, T), false);
  });

  it('names the target: another host, port, scheme or maddr does not verify; the user part and other parameters do not matter', () => {
    // a stranger who got a signed route from one ring of a phone cannot point the dialog's requests elsewhere
    for (const other of ['sip:victim@203.0.113.66:5062', 'sip:bob@192.0.2.4:5063', 'sip:bob@192.0.2.4', 'sips:bob@192.0.2.4:5062', 'sip:bob@192.0.2.4:5062;maddr=203.0.113.66', 'tel:+15551234']) {
      assert.equal(signatures.verify(sig, callId, '1928301774', 'b-tag', routeTarget(parseUri(other))), false, other);
    }
    for (const same of ['sip:bob@192.0.2.4:5062', 'sip:other@192.0.2.4:5062;transport=tcp;ob', 'sip:bob@192.0.2.4:5062']) {
      assert.equal(signatures.verify(sig, callId, '1928301774', 'b-tag', routeTarget(parseUri(same))), true, same);
    }
    assert.equal(routeTarget(parseUri('sip:Bob@Phone.Example.COM')), routeTarget(parseUri('sip:bob@phone.example.com')));
  });
});
