/**
 * AES in counter mode (RFC 3711 §4.1.1, RFC 6188 §3 for 256-bit keys) from a reused ECB cipher,
 * and the AES-CM pseudo-random function that derives session keys from a master key (RFC 3711
 * §4.3.1, §4.3.3; RFC 6188 §5.2 for AES_256_CM_PRF).
 *
 * ECB keeps no state between `update` calls, so one cipher object serves every packet: the
 * counter blocks of a packet are encrypted in one call and XORed with the payload.
 */
import { createCipheriv, type Cipheriv } from 'node:crypto';

/** RFC 3711 §4.3.1 key derivation labels (RFC 3711 §4.3.2 for SRTCP). */
export const LABEL_RTP_ENCRYPTION = 0x00;
export const LABEL_RTP_AUTH = 0x01;
export const LABEL_RTP_SALT = 0x02;
export const LABEL_RTCP_ENCRYPTION = 0x03;
export const LABEL_RTCP_AUTH = 0x04;
export const LABEL_RTCP_SALT = 0x05;

/**
 * The keystream for IV is E(k, IV) ‖ E(k, IV + 1) ‖ ...: the low 16 bits of the IV count the
 * blocks, which never overflows into the rest for packets under 2^20 bytes.
 */
export class AesCounterMode {
  private readonly ecb: Cipheriv;
  private blocks = Buffer.alloc(16 * 96);

  /** A 16-byte key is AES-128, a 32-byte one AES-256. */
  constructor(key: Uint8Array) {
    this.ecb = createCipheriv(key.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
  }

  /** The keystream of `length` bytes for the 16-byte `iv` (its last two bytes zero). */
  keystream(iv: Uint8Array, length: number): Buffer {
    const n = (length + 15) >>> 4;
    if (this.blocks.length < n * 16) this.blocks = Buffer.alloc(n * 16 * 2);
    const blocks = this.blocks;
    for (let j = 0; j < n; j++) {
      const at = j * 16;
      blocks.set(iv, at);
      blocks[at + 14] = j >>> 8;
      blocks[at + 15] = j & 0xff;
    }
    return this.ecb.update(blocks.subarray(0, n * 16));
  }

  /** `out[outAt + i] = input[inAt + i] ^ keystream[i]` for `length` bytes. */
  xor(iv: Uint8Array, input: Uint8Array, inAt: number, out: Uint8Array, outAt: number, length: number): void {
    if (length <= 0) return;
    const ks = this.keystream(iv, length);
    for (let i = 0; i < length; i++) out[outAt + i] = input[inAt + i]! ^ ks[i]!;
  }
}

/** The AES-CM keystream of `key` at the 16-byte `iv` (RFC 3711 §4.1.1), for tests against Appendix B.2. */
export function aesCounterModeKeystream(key: Uint8Array, iv: Uint8Array, length: number): Buffer {
  return Buffer.from(new AesCounterMode(key).keystream(iv, length).subarray(0, length));
}

/**
 * RFC 3711 §4.3.1: key_id = <label> || r and x = key_id XOR master_salt, with r = 0 (a key
 * derivation rate of 0, the default, derives the session keys once); the session key is the
 * AES-CM keystream of the master key at IV = x * 2^16 (§4.3.3). A 96-bit master salt (the
 * AES-GCM suites) is multiplied by 2^16 first (RFC 7714 §11 with erratum 4938: "the 96-bit master
 * salt specified in this document must be multiplied by 2^16 to form the 112-bit salt"): it fills
 * the first 12 bytes and the rest stays zero.
 */
export function deriveSessionKey(master: { readonly key: Uint8Array; readonly salt: Uint8Array }, label: number, length: number): Buffer {
  const iv = new Uint8Array(16);
  iv.set(master.salt.subarray(0, 14));
  iv[7]! ^= label; // key_id's 56 bits end where the 112-bit salt ends: the label is byte 7
  const aes = new AesCounterMode(master.key);
  return Buffer.from(aes.keystream(iv, length).subarray(0, length));
}
