/**
 * RFC 5769 test vectors (src/stun/testdata/rfc5769.ts): each sample parses, its integrity and
 * fingerprint check out, its addresses read right, a flipped byte fails the checks, and the
 * builder writes §2.4 byte for byte.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { readXorAddress } from './address.js';
import { StunAttr } from './attribute-types.js';
import { StunMessageBuilder } from './builder.js';
import { verifyFingerprint } from './fingerprint.js';
import { verifyMessageIntegrity } from './integrity.js';
import { parseStunMessage, StunMethod, type StunMessage } from './message.js';
import {
  SAMPLE_IPV4_RESPONSE, SAMPLE_IPV6_RESPONSE, SAMPLE_LONG_TERM_PARAMS, SAMPLE_LONG_TERM_REQUEST, SAMPLE_REQUEST,
  SAMPLE_REQUEST_PARAMS, SAMPLE_RESPONSE_PARAMS,
} from './testdata/rfc5769.js';

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);
const shortTermKey = (password: string): Uint8Array => new TextEncoder().encode(password);

function parsed(bytes: Uint8Array): StunMessage {
  const r = parseStunMessage(bytes);
  assert.ok(r.ok, r.ok ? '' : `${r.error.reason} at ${r.error.offset}`);
  return r.value;
}

function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at]! ^= 0x01;
  return copy;
}

describe('RFC 5769 §2.1 sample request', () => {
  it('parses: a Binding request with its six attributes in order', () => {
    const m = parsed(SAMPLE_REQUEST);
    assert.equal(m.method, StunMethod.Binding);
    assert.equal(m.class, 'request');
    assert.deepEqual([...m.transactionId], [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae]);
    assert.deepEqual(m.attributes.map((a) => a.type), [
      StunAttr.SOFTWARE, StunAttr.PRIORITY, StunAttr.ICE_CONTROLLED, StunAttr.USERNAME, StunAttr.MESSAGE_INTEGRITY, StunAttr.FINGERPRINT,
    ]);
    assert.equal(text(m.get(StunAttr.SOFTWARE)?.value), SAMPLE_REQUEST_PARAMS.software);
    assert.equal(text(m.get(StunAttr.USERNAME)?.value), SAMPLE_REQUEST_PARAMS.username); // the 0x20 padding is not part of it
    assert.equal(m.get(StunAttr.USERNAME)?.offset, 60);
  });

  it('has the right MESSAGE-INTEGRITY under the short-term password and the right FINGERPRINT', () => {
    const m = parsed(SAMPLE_REQUEST);
    assert.equal(verifyMessageIntegrity(m, shortTermKey(SAMPLE_REQUEST_PARAMS.password)), true);
    assert.equal(verifyMessageIntegrity(m, shortTermKey('VOkJxbRl1RmTxUk/WvJxBT')), false);
    assert.equal(verifyFingerprint(m), true);
  });

  it('fails both checks with one byte of SOFTWARE changed (as turnutils_rfc5769check does), and only the fingerprint with the HMAC changed', () => {
    const m = parsed(flipped(SAMPLE_REQUEST, 27));
    assert.equal(verifyMessageIntegrity(m, shortTermKey(SAMPLE_REQUEST_PARAMS.password)), false);
    assert.equal(verifyFingerprint(m), false);
    const n = parsed(flipped(SAMPLE_REQUEST, 100)); // inside the FINGERPRINT value
    assert.equal(verifyMessageIntegrity(n, shortTermKey(SAMPLE_REQUEST_PARAMS.password)), true);
    assert.equal(verifyFingerprint(n), false);
  });
});

describe('RFC 5769 §2.2 and §2.3 sample responses', () => {
  for (const [name, bytes, expected] of [
    ['IPv4', SAMPLE_IPV4_RESPONSE, SAMPLE_RESPONSE_PARAMS.ipv4],
    ['IPv6', SAMPLE_IPV6_RESPONSE, SAMPLE_RESPONSE_PARAMS.ipv6],
  ] as const) {
    it(`${name}: a Binding success response whose XOR-MAPPED-ADDRESS is ${expected.address} port ${expected.port}`, () => {
      const m = parsed(bytes);
      assert.equal(m.method, StunMethod.Binding);
      assert.equal(m.class, 'success');
      assert.equal(text(m.get(StunAttr.SOFTWARE)?.value), SAMPLE_RESPONSE_PARAMS.software);
      const a = readXorAddress(m.get(StunAttr.XOR_MAPPED_ADDRESS)!, m.transactionId);
      assert.ok(a.ok);
      assert.deepEqual(a.value, expected);
      assert.equal(verifyMessageIntegrity(m, shortTermKey(SAMPLE_RESPONSE_PARAMS.password)), true);
      assert.equal(verifyFingerprint(m), true);
      const bad = parsed(flipped(bytes, 27));
      assert.equal(verifyMessageIntegrity(bad, shortTermKey(SAMPLE_RESPONSE_PARAMS.password)), false);
      assert.equal(verifyFingerprint(bad), false);
    });

    it(`${name}: the builder makes a response that reads back the same and checks out`, () => {
      const m = parsed(bytes);
      const built = new StunMessageBuilder(StunMethod.Binding, 'success', m.transactionId)
        .addString(StunAttr.SOFTWARE, SAMPLE_RESPONSE_PARAMS.software)
        .addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, expected)
        .addMessageIntegrity(shortTermKey(SAMPLE_RESPONSE_PARAMS.password))
        .addFingerprint()
        .build();
      assert.equal(built.length, bytes.length);
      // the same bytes up to the SOFTWARE padding (the RFC pads with spaces, we with zeros)
      assert.deepEqual([...built.subarray(0, 35)], [...bytes.subarray(0, 35)]);
      const xor = bytes.indexOf(0x20, 36) - 1; // the XOR-MAPPED-ADDRESS attribute header
      assert.deepEqual([...built.subarray(xor, xor + (name === 'IPv4' ? 12 : 24))], [...bytes.subarray(xor, xor + (name === 'IPv4' ? 12 : 24))]);
      const back = parsed(built);
      assert.deepEqual(readXorAddress(back.get(StunAttr.XOR_MAPPED_ADDRESS)!, back.transactionId), { ok: true, value: expected });
      assert.equal(verifyMessageIntegrity(back, shortTermKey(SAMPLE_RESPONSE_PARAMS.password)), true);
      assert.equal(verifyFingerprint(back), true);
    });
  }
});

describe('RFC 5769 §2.4 sample request with long-term authentication', () => {
  const p = SAMPLE_LONG_TERM_PARAMS;
  // RFC 8489 §9.2.2 with MD5: key = MD5(username ":" realm ":" password)
  const key = createHash('md5').update(`${p.username}:${p.realm}:${p.password}`, 'utf8').digest();

  it('parses, and its MESSAGE-INTEGRITY checks out under the long-term key', () => {
    const m = parsed(SAMPLE_LONG_TERM_REQUEST);
    assert.equal(text(m.get(StunAttr.USERNAME)?.value), p.username);
    assert.equal(text(m.get(StunAttr.NONCE)?.value), p.nonce);
    assert.equal(text(m.get(StunAttr.REALM)?.value), p.realm);
    assert.equal(verifyMessageIntegrity(m, key), true);
    assert.equal(verifyFingerprint(m), false); // it has none
    assert.equal(verifyMessageIntegrity(parsed(flipped(SAMPLE_LONG_TERM_REQUEST, 32)), key), false);
  });

  it('is what the builder writes, byte for byte', () => {
    const built = new StunMessageBuilder(StunMethod.Binding, 'request', p.transactionId)
      .addString(StunAttr.USERNAME, p.username)
      .addString(StunAttr.NONCE, p.nonce)
      .addString(StunAttr.REALM, p.realm)
      .addMessageIntegrity(key)
      .build();
    assert.deepEqual(Buffer.from(built).toString('hex'), Buffer.from(SAMPLE_LONG_TERM_REQUEST).toString('hex'));
  });
});
