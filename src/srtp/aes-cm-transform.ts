/**
 * The AES-CM/HMAC-SHA1 transform of RFC 3711 (the suites AES_CM_128_HMAC_SHA1_80 and _32).
 *
 * Speed: AES-CM reuses one ECB cipher per session key (aes-counter-mode.ts) and HMAC-SHA1 starts
 * from hash states keyed once (`Hash.copy()` of the inner and outer pads) instead of a new HMAC
 * object per packet. scripts/srtp-speed.mts measures it: about 6 µs to protect or unprotect a
 * 172-byte packet, against 25-50 µs with a new cipher and HMAC per packet and 80 µs with werift's
 * SrtpSession (loaded machine, Node 24).
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import {
  AesCounterMode,
  deriveSessionKey,
  LABEL_RTCP_AUTH,
  LABEL_RTCP_ENCRYPTION,
  LABEL_RTCP_SALT,
  LABEL_RTP_AUTH,
  LABEL_RTP_ENCRYPTION,
  LABEL_RTP_SALT,
} from './aes-counter-mode.js';
import type { SrtpMasterKey } from './srtp-suite.js';
import { RTCP_HEADER_LENGTH, SRTCP_INDEX_LENGTH, type SrtpTransform } from './srtp-transform.js';

/** n_a, the session authentication key length: 160 bits for HMAC-SHA1 (RFC 3711 §8.2). */
const AUTH_KEY_LENGTH = 20;
const SESSION_SALT_LENGTH = 14;

/** HMAC-SHA1 (RFC 2104) with the pads hashed once: each MAC copies the two keyed states. */
class HmacSha1 {
  private readonly inner: Hash;
  private readonly outer: Hash;

  constructor(key: Uint8Array) {
    const block = Buffer.alloc(64); // a key of 20 bytes is shorter than SHA-1's block
    block.set(key);
    const ipad = Buffer.alloc(64);
    const opad = Buffer.alloc(64);
    for (let i = 0; i < 64; i++) {
      ipad[i] = block[i]! ^ 0x36;
      opad[i] = block[i]! ^ 0x5c;
    }
    this.inner = createHash('sha1').update(ipad);
    this.outer = createHash('sha1').update(opad);
  }

  /** HMAC over `a` then the 4 bytes of `tail` (ROC for SRTP; none when undefined). */
  mac(a: Uint8Array, tail: number | undefined): Buffer {
    const h = this.inner.copy().update(a);
    if (tail !== undefined) {
      const t = Buffer.allocUnsafe(4);
      t.writeUInt32BE(tail >>> 0, 0);
      h.update(t);
    }
    return this.outer.copy().update(h.digest()).digest();
  }
}

/**
 * RFC 3711 §4.1.1: "IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)": the 14-byte salt in
 * bytes 0-13, the SSRC XORed into bytes 4-7, the 48-bit index into bytes 8-13.
 */
function counterIv(iv: Uint8Array, salt: Uint8Array, ssrc: number, indexHigh: number, indexLow: number): void {
  iv.set(salt);
  iv[14] = 0;
  iv[15] = 0;
  iv[4]! ^= ssrc >>> 24;
  iv[5]! ^= (ssrc >>> 16) & 0xff;
  iv[6]! ^= (ssrc >>> 8) & 0xff;
  iv[7]! ^= ssrc & 0xff;
  iv[8]! ^= (indexHigh >>> 8) & 0xff;
  iv[9]! ^= indexHigh & 0xff;
  iv[10]! ^= indexLow >>> 24;
  iv[11]! ^= (indexLow >>> 16) & 0xff;
  iv[12]! ^= (indexLow >>> 8) & 0xff;
  iv[13]! ^= indexLow & 0xff;
}

/** Session keys of one direction (RFC 3711 §4.3). */
export class AesCmTransform implements SrtpTransform {
  readonly mkiBeforeTag = true;
  readonly rtcpTagLength = 10;
  private readonly rtpCipher: AesCounterMode;
  private readonly rtpAuth: HmacSha1;
  private readonly rtpSalt: Buffer;
  private readonly rtcpCipher: AesCounterMode;
  private readonly rtcpAuth: HmacSha1;
  private readonly rtcpSalt: Buffer;
  private readonly iv = new Uint8Array(16);

  constructor(
    master: SrtpMasterKey,
    readonly rtpTagLength: number,
  ) {
    this.rtpCipher = new AesCounterMode(deriveSessionKey(master, LABEL_RTP_ENCRYPTION, master.key.length));
    this.rtpAuth = new HmacSha1(deriveSessionKey(master, LABEL_RTP_AUTH, AUTH_KEY_LENGTH));
    this.rtpSalt = deriveSessionKey(master, LABEL_RTP_SALT, SESSION_SALT_LENGTH);
    this.rtcpCipher = new AesCounterMode(deriveSessionKey(master, LABEL_RTCP_ENCRYPTION, master.key.length));
    this.rtcpAuth = new HmacSha1(deriveSessionKey(master, LABEL_RTCP_AUTH, AUTH_KEY_LENGTH));
    this.rtcpSalt = deriveSessionKey(master, LABEL_RTCP_SALT, SESSION_SALT_LENGTH);
  }

  /** RFC 3711 §3.3: encrypt the payload, then the tag over header and encrypted payload with the ROC appended (§4.2). */
  sealRtp(packet: Uint8Array, h: number, ssrc: number, roc: number, seq: number, mki: Uint8Array): Buffer {
    const n = packet.length;
    const out = Buffer.allocUnsafe(n + mki.length + this.rtpTagLength);
    out.set(packet.subarray(0, h));
    counterIv(this.iv, this.rtpSalt, ssrc, roc >>> 16, ((roc & 0xffff) * 65536 + seq) >>> 0);
    this.rtpCipher.xor(this.iv, packet, h, out, h, n - h);
    const tag = this.rtpAuth.mac(out.subarray(0, n), roc);
    out.set(mki, n);
    tag.copy(out, n + mki.length, 0, this.rtpTagLength);
    return out;
  }

  /** RFC 3711 §3.3: "If the result is "AUTHENTICATION FAILURE" ..., the packet MUST be discarded"; else decrypt. */
  openRtp(packet: Uint8Array, h: number, ssrc: number, roc: number, seq: number, mkiLength: number): Buffer | undefined {
    const n = packet.length - mkiLength - this.rtpTagLength;
    const body = packet.subarray(0, n);
    const expected = this.rtpAuth.mac(body, roc);
    if (!timingSafeEqual(expected.subarray(0, this.rtpTagLength), packet.subarray(n + mkiLength))) return undefined;
    const out = Buffer.allocUnsafe(n);
    out.set(body.subarray(0, h));
    counterIv(this.iv, this.rtpSalt, ssrc, roc >>> 16, ((roc & 0xffff) * 65536 + seq) >>> 0);
    this.rtpCipher.xor(this.iv, body, h, out, h, n - h);
    return out;
  }

  /** RFC 3711 §3.4: encrypt after the first 8 bytes, append E = 1 and the 31-bit index, then the 80-bit tag over all of it. */
  sealRtcp(packet: Uint8Array, ssrc: number, index: number, mki: Uint8Array): Buffer {
    const n = packet.length;
    const out = Buffer.allocUnsafe(n + SRTCP_INDEX_LENGTH + mki.length + this.rtcpTagLength);
    out.set(packet.subarray(0, RTCP_HEADER_LENGTH));
    counterIv(this.iv, this.rtcpSalt, ssrc, 0, index);
    this.rtcpCipher.xor(this.iv, packet, RTCP_HEADER_LENGTH, out, RTCP_HEADER_LENGTH, n - RTCP_HEADER_LENGTH);
    out.writeUInt32BE((0x80000000 | index) >>> 0, n);
    const tag = this.rtcpAuth.mac(out.subarray(0, n + SRTCP_INDEX_LENGTH), undefined);
    out.set(mki, n + SRTCP_INDEX_LENGTH);
    tag.copy(out, n + SRTCP_INDEX_LENGTH + mki.length, 0, this.rtcpTagLength);
    return out;
  }

  /** RFC 3711 §3.4: the tag covers the packet with its E flag and index; decrypt only when E is set. */
  openRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean, mkiLength: number): Buffer | undefined {
    const n = packet.length - SRTCP_INDEX_LENGTH - mkiLength - this.rtcpTagLength;
    const expected = this.rtcpAuth.mac(packet.subarray(0, n + SRTCP_INDEX_LENGTH), undefined);
    if (!timingSafeEqual(expected.subarray(0, this.rtcpTagLength), packet.subarray(n + SRTCP_INDEX_LENGTH + mkiLength))) return undefined;
    const out = Buffer.allocUnsafe(n);
    if (encrypted) {
      out.set(packet.subarray(0, RTCP_HEADER_LENGTH));
      counterIv(this.iv, this.rtcpSalt, ssrc, 0, index);
      this.rtcpCipher.xor(this.iv, packet, RTCP_HEADER_LENGTH, out, RTCP_HEADER_LENGTH, n - RTCP_HEADER_LENGTH);
    } else {
      out.set(packet.subarray(0, n));
    }
    return out;
  }
}
