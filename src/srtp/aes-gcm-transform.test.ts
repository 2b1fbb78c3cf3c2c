/**
 * AES-GCM for SRTP (aes-gcm-transform.ts) against the test vectors of RFC 7714 §16 (SRTP) and §17
 * (SRTCP), which are stated with the session key and salt: key 000102…0f (128) or 000102…1f
 * (256), salt "Quid pro quo". The §17 packets follow the subsections (SSRC "Mars", index 0x5d4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AesGcmTransform } from './aes-gcm-transform.js';

const hex = (s: string): Buffer => Buffer.from(s.replaceAll(' ', ''), 'hex');
const NO_MKI = new Uint8Array(0);

const KEY_128 = hex('000102030405060708090a0b0c0d0e0f');
const KEY_256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const SALT = hex('517569642070726f2071756f');

// RFC 7714 §16: header 8040f17b 8041f8d3 5501a0b2 (seq 0xf17b, SSRC 0x5501a0b2, ROC 0), "Gallia est omnis divisa in partes tres"
const RTP = hex('8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573');
// §16.1.1 and §16.2.1
const SRTP_128 = hex(
  '8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833 899d7f27 beb16a91 52cf765e e4390cce',
);
const SRTP_256 = hex(
  '8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13',
);
// §17: the RTCP packet and its SRTCP forms (§17.1, §17.2, §17.3 tag only with E = 0)
const RTCP = hex('81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef');
const SRTCP_128 = hex(
  '81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4',
);
const SRTCP_256 = hex(
  '81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4',
);
const SRTCP_128_TAG_ONLY = hex(
  '81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4',
);
const MARS = 0x4d617273;
const INDEX = 0x5d4;

function transform(key: Buffer): AesGcmTransform {
  return new AesGcmTransform({ rtpKey: key, rtpSalt: SALT, rtcpKey: key, rtcpSalt: SALT });
}

describe('RFC 7714 test vectors', () => {
  for (const [name, key, srtp, srtcp] of [
    ['AEAD_AES_128_GCM (§16.1, §17.1)', KEY_128, SRTP_128, SRTCP_128],
    ['AEAD_AES_256_GCM (§16.2, §17.2)', KEY_256, SRTP_256, SRTCP_256],
  ] as const) {
    it(`${name}: SRTP sealed and opened byte for byte`, () => {
      const t = transform(key);
      assert.equal(t.sealRtp(RTP, 12, 0x5501a0b2, 0, 0xf17b, NO_MKI).toString('hex'), srtp.toString('hex'));
      assert.equal(t.openRtp(srtp, 12, 0x5501a0b2, 0, 0xf17b, 0)?.toString('hex'), RTP.toString('hex'));
    });

    it(`${name}: SRTCP sealed and opened byte for byte`, () => {
      const t = transform(key);
      assert.equal(t.sealRtcp(RTCP, MARS, INDEX, NO_MKI).toString('hex'), srtcp.toString('hex'));
      assert.equal(t.openRtcp(srtcp, MARS, INDEX, true, 0)?.toString('hex'), RTCP.toString('hex'));
    });

    it(`${name}: a flipped bit anywhere, or another ROC, fails authentication`, () => {
      const t = transform(key);
      for (const at of [0, 3, 11, 12, 40, srtp.length - 1]) {
        const bad = Buffer.from(srtp);
        bad[at]! ^= 0x10;
        assert.equal(t.openRtp(bad, 12, 0x5501a0b2, 0, 0xf17b, 0), undefined, `byte ${at}`);
      }
      assert.equal(t.openRtp(srtp, 12, 0x5501a0b2, 1, 0xf17b, 0), undefined);
      const bad = Buffer.from(srtcp);
      bad[bad.length - 1]! ^= 1; // the index is associated data
      assert.equal(t.openRtcp(bad, MARS, INDEX ^ 1, true, 0), undefined);
    });
  }

  it('§17.3: SRTCP with E = 0 is authenticated, not encrypted', () => {
    const t = transform(KEY_128);
    assert.equal(t.openRtcp(SRTCP_128_TAG_ONLY, MARS, INDEX, false, 0)?.toString('hex'), RTCP.toString('hex'));
    const bad = Buffer.from(SRTCP_128_TAG_ONLY);
    bad[20]! ^= 1;
    assert.equal(t.openRtcp(bad, MARS, INDEX, false, 0), undefined);
  });
});
