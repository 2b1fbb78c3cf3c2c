import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { StunAttr, attributeName, isComprehensionRequired, unknownComprehensionRequired } from './attribute-types.js';
import { StunMessageBuilder } from './builder.js';
import { verifyFingerprint } from './fingerprint.js';
import { verifyMessageIntegrity, verifyMessageIntegritySha256 } from './integrity.js';
import { classOf, isStunMessage, messageType, methodOf, newTransactionId, parseStunMessage, StunMethod, type StunClass, type StunMessage } from './message.js';
import { hex, SAMPLE_IPV4_RESPONSE, SAMPLE_REQUEST } from './testdata/rfc5769.js';

const TID = hex('0102030405060708090a0b0c');

function parsed(bytes: Uint8Array): StunMessage {
  const r = parseStunMessage(bytes);
  assert.ok(r.ok, r.ok ? '' : `${r.error.reason} at ${r.error.offset}`);
  return r.value;
}

function failure(bytes: Uint8Array): { reason: string; offset: number } {
  const r = parseStunMessage(bytes);
  assert.equal(r.ok, false);
  return r.ok ? { reason: '', offset: -1 } : r.error;
}

describe('message type (RFC 8489 §5)', () => {
  it('puts the class bits between the method bits, and reads them back for every method and class', () => {
    assert.equal(messageType(StunMethod.Binding, 'request'), 0x0001);
    assert.equal(messageType(StunMethod.Binding, 'success'), 0x0101);
    assert.equal(messageType(StunMethod.Binding, 'error'), 0x0111);
    assert.equal(messageType(StunMethod.Send, 'indication'), 0x0016);
    assert.equal(messageType(StunMethod.Allocate, 'error'), 0x0113);
    assert.equal(messageType(0xfff, 'request'), 0x3eef);
    for (let method = 0; method <= 0xfff; method++) {
      for (const cls of ['request', 'indication', 'success', 'error'] as StunClass[]) {
        const t = messageType(method, cls);
        assert.equal(t & 0xc000, 0);
        if (methodOf(t) !== method || classOf(t) !== cls) assert.fail(`method 0x${method.toString(16)} ${cls}`);
      }
    }
  });
});

describe('parseStunMessage: bad input gives a result naming the offset', () => {
  const cases: Record<string, { bytes: Uint8Array; offset: number; reason: string }> = {
    'empty': { bytes: new Uint8Array(0), offset: 0, reason: 'shorter than the 20-byte header' },
    'truncated header': { bytes: SAMPLE_REQUEST.subarray(0, 19), offset: 19, reason: 'shorter than the 20-byte header' },
    'first two bits set (RTP-like)': { bytes: hex('80010000 2112a442 0102030405060708090a0b0c'), offset: 0, reason: 'first two bits' },
    'bad cookie': { bytes: hex('00010000 2112a443 0102030405060708090a0b0c'), offset: 4, reason: 'magic cookie' },
    'odd length': { bytes: hex('00010002 2112a442 0102030405060708090a0b0c 0000'), offset: 2, reason: 'not a multiple of 4' },
    'truncated body (length says more)': { bytes: SAMPLE_REQUEST.subarray(0, 100), offset: 2, reason: 'does not match' },
    'trailing bytes': { bytes: Uint8Array.from([...SAMPLE_IPV4_RESPONSE, 0, 0, 0, 0]), offset: 2, reason: 'does not match' },
    'attribute longer than the message': { bytes: hex('00010008 2112a442 0102030405060708090a0b0c 80220005 41424344'), offset: 20, reason: 'runs past the end' },
    'second attribute too long': {
      bytes: hex('00010010 2112a442 0102030405060708090a0b0c 00240004 6e0001ff 80220009 41424344'), offset: 28, reason: 'attribute 0x8022 of length 9',
    },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const e = failure(c.bytes);
      assert.equal(e.offset, c.offset, e.reason);
      assert.ok(e.reason.includes(c.reason), e.reason);
    });
  }

  it('takes a message with no attributes, and zero-length attributes', () => {
    assert.equal(parsed(hex('00010000 2112a442 0102030405060708090a0b0c')).attributes.length, 0);
    const m = parsed(hex('00110008 2112a442 0102030405060708090a0b0c 001a0000 80220000'));
    assert.equal(m.class, 'indication');
    assert.deepEqual(m.attributes.map((a) => [a.type, a.value.length, a.offset]), [[0x001a, 0, 20], [0x8022, 0, 24]]);
  });

  it('gives views of the message, not copies', () => {
    const m = parsed(SAMPLE_REQUEST);
    assert.equal(m.bytes, SAMPLE_REQUEST);
    assert.equal(m.transactionId.buffer, SAMPLE_REQUEST.buffer);
    assert.equal(m.get(StunAttr.SOFTWARE)!.value.buffer, SAMPLE_REQUEST.buffer);
    assert.equal(m.get(StunAttr.SOFTWARE)!.value.byteOffset, 24);
  });
});

describe('attributes after MESSAGE-INTEGRITY (RFC 8489 §14.5–§14.7)', () => {
  const key = new TextEncoder().encode('secret');
  it('ignores all but MESSAGE-INTEGRITY-SHA256 and FINGERPRINT after MESSAGE-INTEGRITY, and all but FINGERPRINT after MESSAGE-INTEGRITY-SHA256', () => {
    const b = new StunMessageBuilder(StunMethod.Binding, 'request', TID)
      .addString(StunAttr.USERNAME, 'alice')
      .addMessageIntegrity(key)
      .addString(StunAttr.SOFTWARE, 'after MI')
      .addMessageIntegritySha256(key)
      .addString(StunAttr.REALM, 'after MI-SHA256')
      .addFingerprint()
      .addString(StunAttr.NONCE, 'after FINGERPRINT')
      .build();
    const m = parsed(b);
    assert.deepEqual(m.attributes.map((a) => a.type), [
      StunAttr.USERNAME, StunAttr.MESSAGE_INTEGRITY, StunAttr.MESSAGE_INTEGRITY_SHA256, StunAttr.FINGERPRINT,
    ]);
    assert.equal(m.get(StunAttr.SOFTWARE), undefined);
    // the HMACs cover what came before them, ignored attributes included
    assert.equal(verifyMessageIntegrity(m, key), true);
    assert.equal(verifyMessageIntegritySha256(m, key), true);
    // FINGERPRINT is not the last attribute
    assert.equal(verifyFingerprint(m), false);
  });

  it('keeps only the first MESSAGE-INTEGRITY', () => {
    const b = new StunMessageBuilder(StunMethod.Binding, 'request', TID).addMessageIntegrity(key).addMessageIntegrity(new Uint8Array(1)).build();
    const m = parsed(b);
    assert.equal(m.attributes.length, 1);
    assert.equal(verifyMessageIntegrity(m, key), true);
  });
});

describe('MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6)', () => {
  const key = new TextEncoder().encode('secret');
  it('verifies the full value and a truncated one of 16 to 28 bytes (multiple of 4); not other lengths, not another key', () => {
    const full = new StunMessageBuilder(StunMethod.Allocate, 'request', TID).addString(StunAttr.USERNAME, 'bob').addMessageIntegritySha256(key).build();
    assert.equal(verifyMessageIntegritySha256(parsed(full), key), true);
    assert.equal(verifyMessageIntegritySha256(parsed(full), new TextEncoder().encode('Secret')), false);
    assert.equal(verifyMessageIntegrity(parsed(full), key), false); // no MESSAGE-INTEGRITY
    const m = parsed(full);
    const mac = m.get(StunAttr.MESSAGE_INTEGRITY_SHA256)!.value;
    for (const n of [12, 16, 18, 20, 28]) {
      // a message whose MESSAGE-INTEGRITY-SHA256 is the first n bytes of the HMAC over the message as it ends after n bytes
      const shorter = new StunMessageBuilder(StunMethod.Allocate, 'request', TID).addString(StunAttr.USERNAME, 'bob');
      const probe = shorter.add(StunAttr.MESSAGE_INTEGRITY_SHA256, new Uint8Array(n)).build().slice();
      const macAt = probe.length - ((n + 3) & ~3);
      const h = createHmac('sha256', key).update(probe.subarray(0, macAt - 4)).digest();
      probe.set(h.subarray(0, n), macAt);
      const ok = verifyMessageIntegritySha256(parsed(probe), key);
      assert.equal(ok, n >= 16 && n % 4 === 0, `length ${n}`);
    }
    assert.equal(mac.length, 32);
  });
});

describe('isStunMessage', () => {
  it('says yes to STUN headers and no to SIP, RTP, DTLS, ChannelData and short input', () => {
    assert.equal(isStunMessage(SAMPLE_REQUEST), true);
    assert.equal(isStunMessage(SAMPLE_REQUEST.subarray(0, 20)), true); // a header whose body is still to come
    assert.equal(isStunMessage(new TextEncoder().encode('OPTIONS sip:a@b SIP/2.0\r\n\r\n')), false);
    assert.equal(isStunMessage(hex('80e00001 00000000 12345678 00000000 00000000')), false);
    assert.equal(isStunMessage(hex('16fefd00 00000000 00000000 00000000 00000000')), false);
    assert.equal(isStunMessage(hex('40000004 2112a442 00000000 00000000 00000000')), false);
    assert.equal(isStunMessage(hex('00010002 2112a442 00000000 00000000 00000000')), false);
    assert.equal(isStunMessage(SAMPLE_REQUEST.subarray(0, 19)), false);
  });
});

describe('attribute types', () => {
  it('comprehension-required below 0x8000; unknown ones listed once each, in order', () => {
    assert.equal(isComprehensionRequired(StunAttr.XOR_PEER_ADDRESS), true);
    assert.equal(isComprehensionRequired(StunAttr.SOFTWARE), false);
    const m = parsed(new StunMessageBuilder(StunMethod.Allocate, 'request', TID)
      .add(0x7f01, new Uint8Array(1)).addUint32(StunAttr.LIFETIME, 600).add(0xc001, new Uint8Array(2)).add(0x0031, new Uint8Array(0)).add(0x7f01, new Uint8Array(0))
      .build());
    assert.deepEqual(unknownComprehensionRequired(m, new Set([StunAttr.LIFETIME])), [0x7f01, 0x0031]);
    assert.deepEqual(unknownComprehensionRequired(m, new Set([StunAttr.LIFETIME, 0x7f01, 0x0031])), []);
    assert.equal(attributeName(StunAttr.XOR_RELAYED_ADDRESS), 'XOR-RELAYED-ADDRESS');
    assert.equal(attributeName(0x7f01), '0x7f01');
  });
});

describe('StunMessageBuilder', () => {
  it('pads with zeros and sets the length', () => {
    const b = new StunMessageBuilder(StunMethod.Binding, 'request', TID).add(StunAttr.DATA, Uint8Array.of(1, 2, 3, 4, 5)).build();
    assert.equal(Buffer.from(b).toString('hex'), '0001000c2112a4420102030405060708090a0b0c' + '00130005' + '0102030405000000');
  });

  it('grows past its first capacity', () => {
    const data = new Uint8Array(3000).fill(7);
    const m = parsed(new StunMessageBuilder(StunMethod.Send, 'indication', TID, 20).add(StunAttr.DATA, data).addFingerprint().build());
    assert.deepEqual(m.get(StunAttr.DATA)!.value, data);
    assert.equal(verifyFingerprint(m), true);
  });

  it('refuses a transaction ID not of 12 bytes, a wrong address, a code out of range and an oversize value', () => {
    assert.throws(() => new StunMessageBuilder(StunMethod.Binding, 'request', new Uint8Array(16)), TypeError);
    const b = new StunMessageBuilder(StunMethod.Binding, 'success', TID);
    assert.throws(() => b.addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, { family: 4, address: '::1', port: 1 }), TypeError);
    assert.throws(() => b.addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, { family: 6, address: '10.0.0.1', port: 1 }), TypeError);
    assert.throws(() => b.addErrorCode(700, 'x'), TypeError);
    assert.throws(() => b.addErrorCode(299, 'x'), TypeError);
    assert.throws(() => b.add(StunAttr.DATA, new Uint8Array(65536)), TypeError);
  });
});

describe('newTransactionId', () => {
  it('gives 12 bytes of their own, different each time', () => {
    const a = newTransactionId();
    const b = newTransactionId();
    assert.equal(a.length, 12);
    assert.equal(a.byteOffset, 0);
    assert.equal(a.buffer.byteLength, 12); // not a view of the pool
    assert.notDeepEqual([...a], [...b]);
  });
});
