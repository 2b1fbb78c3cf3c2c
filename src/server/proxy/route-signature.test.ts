import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUri } from '../../sip/index.js';
import { RouteSignature } from './route-signature.js';

describe('RouteSignature (the rrsig of Parley\'s Record-Route entries)', () => {
  const signatures = new RouteSignature(Buffer.alloc(32, 9));
  const callId = 'a84b4c76e66710@pc33.example.com';
  const sig = signatures.sign(callId, '1928301774');

  it('is 96 bits of hex, valid as a SIP URI parameter value, and the same for the same dialog', () => {
    assert.match(sig, /^[0-9a-f]{24}$/);
    assert.equal(signatures.sign(callId, '1928301774'), sig);
    const uri = parseUri(`sip:192.0.2.1:5060;lr;rrsig=${sig}`);
    assert.ok(uri.kind === 'sip' && uri.param('rrsig') === sig);
  });

  it('verifies for the caller (its From tag) and for the callee (the caller\'s tag is its To tag)', () => {
    assert.equal(signatures.verify(sig, callId, '1928301774', 'b-tag'), true);
    assert.equal(signatures.verify(sig, callId, 'b-tag', '1928301774'), true);
    // the forked dialogs of one INVITE (other To tags) share it
    assert.equal(signatures.verify(sig, callId, '1928301774', 'another-fork'), true);
    // an intermediary that upper-cases the parameter does not break it
    assert.equal(signatures.verify(sig.toUpperCase(), callId, '1928301774', 'b-tag'), true);
  });

  it('refuses a forged signature, another Call-ID (replayed), other tags (another dialog of the Call-ID)', () => {
    assert.equal(signatures.verify('0123456789abcdef01234567', callId, '1928301774', 'b-tag'), false);
    assert.equal(signatures.verify(sig, `${callId}x`, '1928301774', 'b-tag'), false);
    assert.equal(signatures.verify(sig, 'other-call', '1928301774', 'b-tag'), false);
    assert.equal(signatures.verify(sig, callId, 'mallory', 'b-tag'), false);
    assert.equal(signatures.verify(sig, callId, 'mallory', undefined), false);
  });

  it('refuses a signature cut short, lengthened, not hex, empty or missing', () => {
    for (const bad of [sig.slice(0, 23), sig.slice(0, 16), `${sig}0`, `${sig.slice(0, 23)}g`, '', undefined]) {
      assert.equal(signatures.verify(bad, callId, '1928301774', 'b-tag'), false, String(bad));
    }
  });

  it('refuses a signature made under another key (another server, or a key not shared)', () => {
    const other = new RouteSignature(Buffer.alloc(32, 10));
    assert.equal(other.verify(sig, callId, '1928301774', 'b-tag'), false);
  });

  it('binds Call-ID and tag separately (no ambiguity where one ends and the other begins)', () => {
    assert.notEqual(signatures.sign('ab', 'c'), signatures.sign('a', 'bc'));
    assert.equal(signatures.verify(signatures.sign('ab', 'c'), 'a', 'bc', undefined), false);
  });
});
