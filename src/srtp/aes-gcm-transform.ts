/**
 * The AEAD transform of RFC 7714 (AEAD_AES_128_GCM, AEAD_AES_256_GCM): AES-GCM with a 12-byte IV
 * and a 16-byte tag; the RTP header (or SRTCP's first 8 bytes and its E+index word) is the
 * associated data. Node's GCM cipher takes a new IV per packet, so each packet makes one cipher
 * object (about as fast as the AES-CM path, which reuses its ciphers but hashes twice).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { deriveSessionKey, LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT, LABEL_RTP_ENCRYPTION, LABEL_RTP_SALT } from './aes-counter-mode.js';
import type { SrtpMasterKey } from './srtp-suite.js';
import { RTCP_HEADER_LENGTH, SRTCP_INDEX_LENGTH, type SrtpTransform } from './srtp-transform.js';

/** RFC 7714 §8.1, §9.1: the tag is 16 octets in both AEAD suites. */
const TAG_LENGTH = 16;
/** RFC 7714 §8.1: the session salt and IV are 12 octets. */
const SALT_LENGTH = 12;

export interface GcmSessionKeys {
  readonly rtpKey: Uint8Array;
  readonly rtpSalt: Uint8Array;
  readonly rtcpKey: Uint8Array;
  readonly rtcpSalt: Uint8Array;
}

/**
 * RFC 7714 §8.1: "the 12-octet IV ... is formed by ... 2 octets of zero, the 4-octet SSRC, the
 * 4-octet ROC and the 2-octet SEQ" XORed with the session salt (its figure 4, in words).
 */
function rtpIv(salt: Uint8Array, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(SALT_LENGTH);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(roc >>> 0, 6);
  iv.writeUInt16BE(seq, 10);
  for (let i = 0; i < SALT_LENGTH; i++) iv[i]! ^= salt[i]!;
  return iv;
}

/** RFC 7714 §9.1: for SRTCP "2 octets of zero, the 4-octet SSRC, 2 octets of zero, a single zero bit and the 31-bit SRTCP index", XORed with the salt. */
function rtcpIv(salt: Uint8Array, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(SALT_LENGTH);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(index & 0x7fffffff, 8);
  for (let i = 0; i < SALT_LENGTH; i++) iv[i]! ^= salt[i]!;
  return iv;
}

export class AesGcmTransform implements SrtpTransform {
  readonly mkiBeforeTag = false;
  readonly rtpTagLength = TAG_LENGTH;
  readonly rtcpTagLength = TAG_LENGTH;
  private readonly algorithm: 'aes-128-gcm' | 'aes-256-gcm';

  /** From session keys directly (RFC 7714 §16-17's vectors give them so). */
  constructor(private readonly keys: GcmSessionKeys) {
    this.algorithm = keys.rtpKey.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
  }

  /**
   * RFC 7714 §11: "AEAD_AES_128_GCM MUST use the (128-bit) AES_CM PRF KDF described in [RFC3711].
   * AEAD_AES_256_GCM MUST use the AES_256_CM_PRF KDF described in [RFC6188]"; the session salt is
   * 12 octets. No authentication keys: the AEAD authenticates.
   */
  static fromMaster(master: SrtpMasterKey): AesGcmTransform {
    const n = master.key.length;
    return new AesGcmTransform({
      rtpKey: deriveSessionKey(master, LABEL_RTP_ENCRYPTION, n),
      rtpSalt: deriveSessionKey(master, LABEL_RTP_SALT, SALT_LENGTH),
      rtcpKey: deriveSessionKey(master, LABEL_RTCP_ENCRYPTION, n),
      rtcpSalt: deriveSessionKey(master, LABEL_RTCP_SALT, SALT_LENGTH),
    });
  }

  /** RFC 7714 §8.2: the header is the associated data, the payload the plaintext; the tag follows the ciphertext. */
  sealRtp(packet: Uint8Array, h: number, ssrc: number, roc: number, seq: number, mki: Uint8Array): Buffer {
    const c = createCipheriv(this.algorithm, this.keys.rtpKey, rtpIv(this.keys.rtpSalt, ssrc, roc, seq), { authTagLength: TAG_LENGTH });
    c.setAAD(packet.subarray(0, h));
    const body = c.update(packet.subarray(h));
    c.final();
    return Buffer.concat([packet.subarray(0, h), body, c.getAuthTag(), mki]);
  }

  /** RFC 7714 §8.3: "If the verification fails, the packet MUST be discarded" (a GCM tag mismatch). */
  openRtp(packet: Uint8Array, h: number, ssrc: number, roc: number, seq: number, mkiLength: number): Buffer | undefined {
    const end = packet.length - mkiLength - TAG_LENGTH;
    const d = createDecipheriv(this.algorithm, this.keys.rtpKey, rtpIv(this.keys.rtpSalt, ssrc, roc, seq), { authTagLength: TAG_LENGTH });
    d.setAAD(packet.subarray(0, h));
    d.setAuthTag(packet.subarray(end, end + TAG_LENGTH));
    const plain = d.update(packet.subarray(h, end));
    try {
      d.final();
    } catch {
      return undefined;
    }
    return Buffer.concat([packet.subarray(0, h), plain]);
  }

  /** RFC 7714 §9.2: the associated data is the first 8 octets and the E+index word, which follows the tag. */
  sealRtcp(packet: Uint8Array, ssrc: number, index: number, mki: Uint8Array): Buffer {
    const word = Buffer.allocUnsafe(SRTCP_INDEX_LENGTH);
    word.writeUInt32BE((0x80000000 | index) >>> 0, 0);
    const c = createCipheriv(this.algorithm, this.keys.rtcpKey, rtcpIv(this.keys.rtcpSalt, ssrc, index), { authTagLength: TAG_LENGTH });
    c.setAAD(Buffer.concat([packet.subarray(0, RTCP_HEADER_LENGTH), word]));
    const body = c.update(packet.subarray(RTCP_HEADER_LENGTH));
    c.final();
    return Buffer.concat([packet.subarray(0, RTCP_HEADER_LENGTH), body, c.getAuthTag(), word, mki]);
  }

  /**
   * RFC 7714 §9.2 and §17.3: with E = 0 nothing is encrypted, and the whole RTCP packet with the
   * E+index word is the associated data of an empty plaintext.
   */
  openRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean, mkiLength: number): Buffer | undefined {
    const wordAt = packet.length - mkiLength - SRTCP_INDEX_LENGTH;
    const tagAt = wordAt - TAG_LENGTH;
    const word = packet.subarray(wordAt, wordAt + SRTCP_INDEX_LENGTH);
    const d = createDecipheriv(this.algorithm, this.keys.rtcpKey, rtcpIv(this.keys.rtcpSalt, ssrc, index), { authTagLength: TAG_LENGTH });
    d.setAuthTag(packet.subarray(tagAt, wordAt));
    let out: Buffer;
    if (encrypted) {
      d.setAAD(Buffer.concat([packet.subarray(0, RTCP_HEADER_LENGTH), word]));
      out = Buffer.concat([packet.subarray(0, RTCP_HEADER_LENGTH), d.update(packet.subarray(RTCP_HEADER_LENGTH, tagAt))]);
    } else {
      d.setAAD(Buffer.concat([packet.subarray(0, tagAt), word]));
      out = Buffer.from(packet.subarray(0, tagAt));
    }
    try {
      d.final();
    } catch {
      return undefined;
    }
    return out;
  }
}
