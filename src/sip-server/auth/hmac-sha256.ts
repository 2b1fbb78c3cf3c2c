import { createHash, hash } from 'node:crypto';

const BLOCK = 64;

/**
 * HMAC-SHA-256 (RFC 2104) with one key, computed as two one-shot hashes over the pre-padded key:
 * H((K ^ opad) || H((K ^ ipad) || text)). Node's createHmac sets up the key schedule again for
 * every MAC, which costs more than the two hashes of a short text; nonces and flow tokens are
 * MACed thousands of times a second with the same key.
 */
export class HmacSha256 {
  private readonly inner: Buffer;
  private readonly outer: Buffer;
  /** The inner pad followed by room for a text (macText): one buffer reused, grown when a text needs more. */
  private scratch: Buffer;
  /** The outer pad followed by the inner hash (macText). */
  private readonly outerScratch: Buffer;

  constructor(key: Uint8Array) {
    let k = Buffer.from(key);
    if (k.length > BLOCK) k = createHash('sha256').update(k).digest();
    const padded = Buffer.alloc(BLOCK);
    k.copy(padded);
    this.inner = Buffer.alloc(BLOCK);
    this.outer = Buffer.alloc(BLOCK);
    for (let i = 0; i < BLOCK; i++) {
      this.inner[i] = padded[i]! ^ 0x36;
      this.outer[i] = padded[i]! ^ 0x5c;
    }
    this.scratch = Buffer.alloc(BLOCK + 256);
    this.inner.copy(this.scratch);
    this.outerScratch = Buffer.alloc(BLOCK + 32);
    this.outer.copy(this.outerScratch);
  }

  /** The 32-byte MAC of the concatenation of `parts`. */
  mac(...parts: Uint8Array[]): Buffer {
    const innerHash = hash('sha256', Buffer.concat([this.inner, ...parts]), 'buffer');
    return hash('sha256', Buffer.concat([this.outer, innerHash]), 'buffer');
  }

  /**
   * The MAC of `text` (UTF-8) as lower-case hex, cut to `hexDigits`. The hot-path form: the text
   * is written after the inner pad in a buffer kept for it, and the inner hash after the outer
   * pad in another, so a MAC costs the two hashes and the hex string, without the Buffers of
   * `mac` (one per part, their concatenations, the digest's copy). Synchronous, so the reused
   * buffers are never shared between two calls.
   */
  macText(text: string, hexDigits = 64): string {
    const n = Buffer.byteLength(text, 'utf8');
    if (BLOCK + n > this.scratch.length) {
      this.scratch = Buffer.alloc(BLOCK + n * 2);
      this.inner.copy(this.scratch);
    }
    this.scratch.write(text, BLOCK, 'utf8');
    const innerHash = hash('sha256', this.scratch.subarray(0, BLOCK + n), 'buffer');
    innerHash.copy(this.outerScratch, BLOCK);
    const hex = hash('sha256', this.outerScratch, 'hex');
    return hexDigits >= 64 ? hex : hex.slice(0, hexDigits);
  }
}
