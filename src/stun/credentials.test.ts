import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { StunAttr } from './attribute-types.js';
import { StunMessageBuilder } from './builder.js';
import {
  keyFromHa1, longTermKey, nonceCookie, nonceFeatures, opaqueString, PasswordAlgorithm, passwordAlgorithmsValue,
  readPasswordAlgorithm, readPasswordAlgorithms, SecurityFeature, selectPasswordAlgorithm, userHash,
} from './credentials.js';
import { verifyMessageIntegrity, verifyMessageIntegritySha256 } from './integrity.js';
import { parseStunMessage, StunMethod, type StunMessage } from './message.js';
import { hex, SAMPLE_LONG_TERM_PARAMS, SAMPLE_LONG_TERM_REQUEST } from './testdata/rfc5769.js';
import { SAMPLE_SHA256_PARAMS, SAMPLE_SHA256_REQUEST } from './testdata/rfc8489.js';

function parsed(bytes: Uint8Array): StunMessage {
  const r = parseStunMessage(bytes);
  assert.ok(r.ok, r.ok ? '' : `${r.error.reason} at ${r.error.offset}`);
  return r.value;
}

describe('RFC 8489 Appendix B.1: long-term authentication with MESSAGE-INTEGRITY-SHA256 and USERHASH', () => {
  const p = SAMPLE_SHA256_PARAMS;
  it('USERHASH is userHash(username, realm), the nonce cookie carries username anonymity, PASSWORD-ALGORITHM is SHA-256', () => {
    const m = parsed(SAMPLE_SHA256_REQUEST);
    assert.deepEqual(Buffer.from(m.get(StunAttr.USERHASH)!.value), Buffer.from(userHash(p.username, p.realm)));
    assert.equal(nonceFeatures(m.get(StunAttr.NONCE)!.value), SecurityFeature.UsernameAnonymity);
    assert.equal(nonceFeatures(p.nonce), SecurityFeature.UsernameAnonymity);
    const alg = readPasswordAlgorithm(m.get(StunAttr.PASSWORD_ALGORITHM)!);
    assert.ok(alg.ok);
    assert.equal(alg.value.algorithm, PasswordAlgorithm.SHA256);
    assert.equal(alg.value.parameters.length, 0);
  });

  it('MESSAGE-INTEGRITY-SHA256 checks out under the SHA-256 key, not the MD5 one, and the builder writes the message byte for byte', () => {
    const m = parsed(SAMPLE_SHA256_REQUEST);
    const key = longTermKey(p.username, p.realm, p.password, 'sha256');
    assert.equal(verifyMessageIntegritySha256(m, key), true);
    assert.equal(verifyMessageIntegritySha256(m, longTermKey(p.username, p.realm, p.password, 'md5')), false);
    const built = new StunMessageBuilder(StunMethod.Binding, 'request', p.transactionId)
      .add(StunAttr.USERHASH, userHash(p.username, p.realm))
      .addString(StunAttr.NONCE, p.nonce)
      .addString(StunAttr.REALM, p.realm)
      .add(StunAttr.PASSWORD_ALGORITHM, passwordAlgorithmsValue([PasswordAlgorithm.SHA256]))
      .addMessageIntegritySha256(key)
      .build();
    assert.equal(Buffer.from(built).toString('hex'), Buffer.from(SAMPLE_SHA256_REQUEST).toString('hex'));
  });
});

describe('long-term key (RFC 8489 §9.2.2)', () => {
  it('MD5 key of RFC 5769 §2.4 verifies that sample, and equals the digest HA1 of the same user', () => {
    const p = SAMPLE_LONG_TERM_PARAMS;
    const key = longTermKey(p.username, p.realm, p.password, 'md5');
    assert.equal(verifyMessageIntegrity(parsed(SAMPLE_LONG_TERM_REQUEST), key), true);
    const ha1 = createHash('md5').update(`${p.username}:${p.realm}:${p.password}`).digest('hex');
    assert.deepEqual(Buffer.from(keyFromHa1(ha1)!), Buffer.from(key));
    assert.deepEqual(Buffer.from(keyFromHa1(ha1.toUpperCase())!), Buffer.from(key));
    assert.equal(keyFromHa1('xyz'), undefined);
    assert.equal(keyFromHa1('zz'.repeat(16)), undefined);
    const sha = createHash('sha256').update(`alice:example.org:secret`).digest('hex');
    assert.deepEqual(Buffer.from(keyFromHa1(sha)!), Buffer.from(longTermKey('alice', 'example.org', 'secret', 'sha256')));
  });

  it('applies OpaqueString to realm and password: non-ASCII spaces become spaces, then NFC', () => {
    assert.equal(opaqueString('a\u00a0b\u3000c'), 'a b c');
    assert.equal(opaqueString('e\u0301'), '\u00e9');
    assert.equal(opaqueString('plain'), 'plain');
    assert.deepEqual(
      Buffer.from(longTermKey('u', 'realm\u2003x', 'pa\u00a0ss', 'md5')),
      createHash('md5').update('u:realm x:pa ss').digest(),
    );
  });
});

describe('nonce cookie (RFC 8489 §9.2)', () => {
  it('writes and reads the 24 security-feature bits after obMatJos2', () => {
    for (const f of [0, SecurityFeature.PasswordAlgorithms, SecurityFeature.UsernameAnonymity, 3, 0xffffff]) {
      const cookie = nonceCookie(f);
      assert.equal(cookie.length, 13);
      assert.equal(nonceFeatures(`${cookie}rest-of-nonce`), f);
      assert.equal(nonceFeatures(new TextEncoder().encode(`${cookie}x`)), f);
    }
    assert.equal(nonceCookie(SecurityFeature.PasswordAlgorithms), 'obMatJos2AAAB');
    assert.equal(nonceFeatures('obMatJos2AAA'), undefined);
    assert.equal(nonceFeatures('obMatJos3AAAB'), undefined);
    assert.equal(nonceFeatures('obMatJos2AA-B'), undefined);
    assert.equal(nonceFeatures('f//499k954d6OL34oL9FSTvy64sA'), undefined);
  });
});

describe('PASSWORD-ALGORITHMS (RFC 8489 §14.11)', () => {
  it('reads and writes a list with and without parameters', () => {
    const value = passwordAlgorithmsValue([PasswordAlgorithm.MD5, { algorithm: 0x7777, parameters: Uint8Array.of(1, 2, 3) }, PasswordAlgorithm.SHA256]);
    assert.equal(Buffer.from(value).toString('hex'), '00010000' + '77770003' + '01020300' + '00020000');
    const r = readPasswordAlgorithms({ type: StunAttr.PASSWORD_ALGORITHMS, value, offset: 40 });
    assert.ok(r.ok);
    assert.deepEqual(r.value.map((e) => [e.algorithm, [...e.parameters]]), [[1, []], [0x7777, [1, 2, 3]], [2, []]]);
  });

  it('fails on an entry cut short or parameters running past the attribute, naming the offset', () => {
    const cut = readPasswordAlgorithms({ type: StunAttr.PASSWORD_ALGORITHMS, value: hex('00010000 0002'), offset: 40 });
    assert.deepEqual(cut.ok ? undefined : cut.error.offset, 48);
    const over = readPasswordAlgorithms({ type: StunAttr.PASSWORD_ALGORITHMS, value: hex('00010008 00000000'), offset: 40 });
    assert.deepEqual(over.ok ? undefined : over.error.offset, 44);
    const one = readPasswordAlgorithm({ type: StunAttr.PASSWORD_ALGORITHM, value: hex('0001'), offset: 40 });
    assert.deepEqual(one.ok ? undefined : one.error.offset, 42);
  });
});

describe('selectPasswordAlgorithm (RFC 8489 §9.2.4)', () => {
  const offered = passwordAlgorithmsValue([PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]);
  const request = (algorithm?: number, list?: Uint8Array): StunMessage => {
    const b = new StunMessageBuilder(StunMethod.Allocate, 'request', hex('0102030405060708090a0b0c'));
    if (algorithm !== undefined) b.add(StunAttr.PASSWORD_ALGORITHM, passwordAlgorithmsValue([algorithm]));
    if (list !== undefined) b.add(StunAttr.PASSWORD_ALGORITHMS, list);
    return parsed(b.build());
  };
  it('MD5 without either attribute; the chosen one when both are there and the list is what was offered', () => {
    assert.deepEqual(selectPasswordAlgorithm(request(), offered), { ok: true, value: 'md5' });
    assert.deepEqual(selectPasswordAlgorithm(request(PasswordAlgorithm.SHA256, offered), offered), { ok: true, value: 'sha256' });
    assert.deepEqual(selectPasswordAlgorithm(request(PasswordAlgorithm.MD5, offered), offered), { ok: true, value: 'md5' });
  });
  it('400 when one comes without the other, the list differs from the offer (bid-down), or the choice is not in it', () => {
    for (const m of [
      request(PasswordAlgorithm.SHA256),
      request(undefined, offered),
      request(PasswordAlgorithm.MD5, passwordAlgorithmsValue([PasswordAlgorithm.MD5])),
      request(PasswordAlgorithm.SHA256, passwordAlgorithmsValue([PasswordAlgorithm.SHA256])),
      request(0x0003, offered),
    ]) {
      const r = selectPasswordAlgorithm(m, offered);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.code, 400);
    }
    assert.equal(selectPasswordAlgorithm(request(PasswordAlgorithm.SHA256, offered), undefined).ok, false);
  });
});
