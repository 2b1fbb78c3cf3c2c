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
  }

  /** The 32-byte MAC of the concatenation of `parts`. */
  mac(...parts: Uint8Array[]): Buffer {
    const innerHash = hash('sha256', Buffer.concat([this.inner, ...parts]), 'buffer');
    return hash('sha256', Buffer.concat([this.outer, innerHash]), 'buffer');
  }
}
