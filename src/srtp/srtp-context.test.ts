/**
 * SRTP/SRTCP (srtp-context.ts): RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation)
 * vectors, round trips in every suite (with and without MKI), werift's SrtpSession/SrtcpSession as
 * an independent implementation in both directions (AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM,
 * the suites werift has), replay and tampering refused, the rollover counter across 65535 → 0.
 * The RFC 7714 vectors are in aes-gcm-transform.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, SrtcpSession, SrtpSession } from 'werift';
import { aesCounterModeKeystream, deriveSessionKey, estimateRoc, SRTP_SUITE_PARAMETERS, SRTP_SUITES, SrtpContext, type SrtpMasterKey, type SrtpSuite } from './index.js';

const hex = (s: string): Buffer => Buffer.from(s.replaceAll(' ', ''), 'hex');

function rtp(seq: number, ssrc = 0x11223344, payloadLength = 160, fill = 0xd5): Buffer {
  const p = Buffer.alloc(12 + payloadLength, fill);
  p[0] = 0x80;
  p[1] = 0; // PCMU
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 160) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

/** A receiver report with one report block (32 bytes). */
function rtcp(ssrc = 0x11223344): Buffer {
  const p = Buffer.alloc(32, 0x5a);
  p[0] = 0x81;
  p[1] = 201;
  p.writeUInt16BE(7, 2);
  p.writeUInt32BE(ssrc, 4);
  return p;
}

function master(suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80', mki?: Uint8Array): SrtpMasterKey {
  const p = SRTP_SUITE_PARAMETERS[suite];
  return { key: randomBytes(p.keyLength), salt: randomBytes(p.saltLength), ...(mki === undefined ? {} : { mki }) };
}

function pair(suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80', mki?: Uint8Array): { a: SrtpContext; b: SrtpContext } {
  const ka = master(suite, mki);
  const kb = master(suite, mki);
  return { a: new SrtpContext({ suite, local: ka, remote: kb }), b: new SrtpContext({ suite, local: kb, remote: ka }) };
}

describe('RFC 3711 Appendix B vectors', () => {
  it('B.2: the AES-CM keystream of the session key at the salted IV', () => {
    const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
    const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
    const ks = aesCounterModeKeystream(key, iv, 48);
    assert.equal(ks.subarray(0, 16).toString('hex').toUpperCase(), 'E03EAD0935C95E80E166B16DD92B4EB4');
    assert.equal(ks.subarray(16, 32).toString('hex').toUpperCase(), 'D23513162B02D0F72A43A2FE4A5F97AB');
    assert.equal(ks.subarray(32, 48).toString('hex').toUpperCase(), '41E95B3BB0A2E8DD477901E4FCA894C0');
  });

  it('B.3: cipher key, salt and authentication key from the master key', () => {
    const m = { key: hex('E1F97A0D3E018BE0D64FA32C06DE4139'), salt: hex('0EC675AD498AFEEBB6960B3AABE6') };
    assert.equal(deriveSessionKey(m, 0, 16).toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
    assert.equal(deriveSessionKey(m, 2, 14).toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
    assert.equal(deriveSessionKey(m, 1, 20).toString('hex').toUpperCase(), 'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });
});

describe('SrtpContext', () => {
  for (const suite of SRTP_SUITES) {
    it(`${suite}: RTP and RTCP round trip, payload encrypted, tag appended`, () => {
      const { a, b } = pair(suite);
      const p = SRTP_SUITE_PARAMETERS[suite];
      for (let seq = 1000; seq < 1010; seq++) {
        const plain = rtp(seq);
        const wire = a.protectRtp(plain)!;
        assert.equal(wire.length, plain.length + p.rtpTagLength);
        assert.deepEqual(wire.subarray(0, 12), plain.subarray(0, 12));
        assert.notDeepEqual(wire.subarray(12, plain.length), plain.subarray(12));
        assert.deepEqual(b.unprotectRtp(wire), plain);
      }
      const report = rtcp();
      const wire = a.protectRtcp(report)!;
      assert.equal(wire.length, report.length + 4 + p.rtcpTagLength);
      const e = p.transform === 'aes-cm' ? report.length : wire.length - 4;
      assert.equal(wire[e]! & 0x80, 0x80, 'E bit set');
      assert.deepEqual(b.unprotectRtcp(wire), report);
    });

    it(`${suite}: with a 4-byte MKI, written where RFC 3711 §3.1 / RFC 7714 §8.1 put it and checked`, () => {
      const mki = Buffer.from([0, 0, 0, 7]);
      const { a, b } = pair(suite, mki);
      const p = SRTP_SUITE_PARAMETERS[suite];
      const plain = rtp(5);
      const wire = a.protectRtp(plain)!;
      assert.equal(wire.length, plain.length + 4 + p.rtpTagLength);
      const at = p.transform === 'aes-cm' ? plain.length : wire.length - 4;
      assert.deepEqual(wire.subarray(at, at + 4), mki);
      assert.deepEqual(b.unprotectRtp(wire), plain);
      const report = rtcp();
      const sr = a.protectRtcp(report)!;
      assert.equal(sr.length, report.length + 4 + 4 + p.rtcpTagLength);
      assert.deepEqual(b.unprotectRtcp(sr), report);
      // a packet naming another key is not ours
      const other = Buffer.from(a.protectRtp(rtp(6))!);
      other[at]! ^= 1;
      assert.equal(b.unprotectRtp(other), undefined);
      assert.throws(() => new SrtpContext({ suite, local: master(suite), remote: { key: randomBytes(3), salt: randomBytes(14) } }), TypeError);
    });
  }

  it('an RTP header with CSRCs and an extension stays in the clear', () => {
    const { a, b } = pair();
    const p = Buffer.alloc(12 + 8 + 8 + 40, 7);
    p[0] = 0x80 | 0x10 | 2; // X, CC = 2
    p.writeUInt16BE(5, 2);
    p.writeUInt32BE(99, 8);
    p.writeUInt16BE(0xbede, 20);
    p.writeUInt16BE(1, 22); // one word of extension
    const wire = a.protectRtp(p)!;
    assert.deepEqual(wire.subarray(0, 28), p.subarray(0, 28));
    assert.deepEqual(b.unprotectRtp(wire), p);
  });

  it('refuses a replayed RTP packet and SRTCP index, and one too old for the window', () => {
    const { a, b } = pair();
    const wires = [];
    for (let seq = 0; seq < 100; seq++) wires.push(a.protectRtp(rtp(seq))!);
    for (const w of wires.slice(0, 99)) assert.ok(b.unprotectRtp(w));
    assert.equal(b.unprotectRtp(wires[98]!), undefined, 'replay');
    assert.ok(b.unprotectRtp(wires[99]!));
    assert.equal(b.unprotectRtp(wires[10]!), undefined, 'outside the 64-packet window');
    const r1 = a.protectRtcp(rtcp())!;
    const r2 = a.protectRtcp(rtcp())!;
    assert.ok(b.unprotectRtcp(r2));
    assert.ok(b.unprotectRtcp(r1), 'out of order but new');
    assert.equal(b.unprotectRtcp(r1), undefined, 'replay');
  });

  it('with replayProtection off (a capture reader) a duplicate decrypts again', () => {
    const ka = master();
    const a = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', local: ka, remote: ka });
    const b = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', local: ka, remote: ka, replayProtection: false });
    const wire = a.protectRtp(rtp(9))!;
    assert.deepEqual(b.unprotectRtp(wire), rtp(9));
    assert.deepEqual(b.unprotectRtp(wire), rtp(9));
    const report = a.protectRtcp(rtcp())!;
    assert.ok(b.unprotectRtcp(report) && b.unprotectRtcp(report));
  });

  it('accepts packets out of order inside the window, once each', () => {
    const { a, b } = pair();
    const wires = [0, 1, 2, 3, 4, 5].map((s) => a.protectRtp(rtp(s))!);
    for (const i of [0, 3, 1, 5, 2, 4]) assert.ok(b.unprotectRtp(wires[i]!), `packet ${i}`);
    for (const w of wires) assert.equal(b.unprotectRtp(w), undefined);
  });

  it('refuses a tampered packet, a wrong key and short input without throwing', () => {
    const { a, b } = pair();
    const wire = a.protectRtp(rtp(1))!;
    for (const at of [1, 5, 20, wire.length - 1]) {
      const t = Buffer.from(wire);
      t[at]! ^= 1;
      assert.equal(b.unprotectRtp(t), undefined, `byte ${at}`);
    }
    const other = pair().b;
    assert.equal(other.unprotectRtp(wire), undefined);
    const report = a.protectRtcp(rtcp())!;
    const t = Buffer.from(report);
    t[12]! ^= 1;
    assert.equal(b.unprotectRtcp(t), undefined);
    for (const n of [0, 1, 11, 12, 21]) {
      assert.equal(b.unprotectRtp(Buffer.alloc(n, 0x80)), undefined);
      assert.equal(b.unprotectRtcp(Buffer.alloc(n, 0x80)), undefined);
    }
    assert.equal(a.protectRtp(Buffer.alloc(5, 0x80)), undefined);
    assert.ok(b.unprotectRtp(wire), 'the original still passes');
  });

  it('carries the rollover counter across 65535 → 0 (sender and receiver)', () => {
    const { a, b } = pair();
    for (let n = 65530; n < 65546; n++) {
      const plain = rtp(n);
      assert.deepEqual(b.unprotectRtp(a.protectRtp(plain)!), plain, `seq ${n & 0xffff}`);
    }
    // a late packet from before the wrap still decrypts with ROC 0
    const { a: a2, b: b2 } = pair();
    const late = a2.protectRtp(rtp(65534))!;
    for (const n of [65533, 65535, 65536, 65537]) assert.ok(b2.unprotectRtp(a2.protectRtp(rtp(n))!));
    assert.ok(b2.unprotectRtp(late));
  });

  it('estimates v as Appendix A does', () => {
    assert.equal(estimateRoc(0, 100, 101), 0);
    assert.equal(estimateRoc(0, 65500, 3), 1);
    assert.equal(estimateRoc(1, 3, 65500), 0);
    assert.equal(estimateRoc(0, 3, 65500), -1);
    assert.equal(estimateRoc(5, 40000, 39000), 5);
  });
});

for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const)
describe(`${suite} against werift (an independent SRTP implementation)`, () => {
  function sessions(): { ours: SrtpContext; theirs: SrtpSession; theirsRtcp: SrtcpSession } {
    const ka = master(suite);
    const kb = master(suite);
    const ours = new SrtpContext({ suite, local: ka, remote: kb });
    const config = {
      keys: { localMasterKey: Buffer.from(kb.key), localMasterSalt: Buffer.from(kb.salt), remoteMasterKey: Buffer.from(ka.key), remoteMasterSalt: Buffer.from(ka.salt) },
      profile: suite === 'AEAD_AES_128_GCM' ? ProtectionProfileAeadAes128Gcm : ProtectionProfileAes128CmHmacSha1_80,
    };
    return { ours, theirs: new SrtpSession(config), theirsRtcp: new SrtcpSession(config) };
  }

  it('werift decrypts what we protect, across a rollover', () => {
    const { ours, theirs, theirsRtcp } = sessions();
    for (let n = 65500; n < 65600; n++) {
      const plain = rtp(n, 0xcafe, 160, n & 0xff);
      assert.deepEqual(theirs.decrypt(ours.protectRtp(plain)!), plain, `seq ${n}`);
    }
    const report = rtcp(0xcafe);
    assert.deepEqual(theirsRtcp.decrypt(ours.protectRtcp(report)!), report);
  });

  it('we decrypt what werift protects', () => {
    const { ours, theirs, theirsRtcp } = sessions();
    for (let n = 0; n < 50; n++) {
      const plain = rtp(n, 0xbeef, 172, n);
      const header = RtpHeader.deSerialize(plain);
      const wire = theirs.encrypt(plain.subarray(12), header);
      assert.deepEqual(ours.unprotectRtp(wire), plain, `seq ${n}`);
    }
    const report = rtcp(0xbeef);
    assert.deepEqual(ours.unprotectRtcp(theirsRtcp.encrypt(report)), report);
  });
});
