/**
 * Nonces of the long-term credential mechanism (RFC 8489 §9.2), stateless: the expiry time and an
 * HMAC of it with the client's address under a secret of this server, so that any nonce this
 * server made for this client is recognised without a table, and an old one is stale.
 *
 * RFC 8489 §9.2: "the nonce [...] is used to enable the server to detect that a request is
 * recent and [...] should be valid for a limited time."
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Characters of a nonce: 8 hex digits of the expiry (seconds), 16 of the MAC. */
const EXPIRY_DIGITS = 8;
const MAC_DIGITS = 16;

export type NonceCheck = 'valid' | 'stale';

export class NonceIssuer {
  constructor(
    private readonly secret: Uint8Array,
    /** How long a nonce stays valid, ms. */
    private readonly lifetimeMs: number,
    /** Wall-clock time, ms (nonces outlive nothing but they cross threads: not the monotonic clock). */
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh nonce for a client at `address`. */
  issue(address: string): string {
    const expiry = Math.ceil((this.now() + this.lifetimeMs) / 1000)
      .toString(16)
      .padStart(EXPIRY_DIGITS, '0');
    return expiry + this.mac(expiry, address);
  }

  /**
   * `valid` for a nonce this server issued to this address that has not expired; `stale`
   * otherwise (expired, made for another address, or not one of ours): RFC 8489 §9.2.4 answers
   * both with 438 and a new nonce, and the client retries with it.
   */
  check(nonce: string, address: string): NonceCheck {
    if (nonce.length !== EXPIRY_DIGITS + MAC_DIGITS) return 'stale';
    const expiry = nonce.slice(0, EXPIRY_DIGITS);
    const expected = Buffer.from(this.mac(expiry, address));
    const given = Buffer.from(nonce.slice(EXPIRY_DIGITS));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'stale';
    const seconds = Number.parseInt(expiry, 16);
    return Number.isFinite(seconds) && seconds * 1000 > this.now() ? 'valid' : 'stale';
  }

  private mac(expiry: string, address: string): string {
    return createHmac('sha256', this.secret).update(expiry).update('\0').update(address).digest('hex').slice(0, MAC_DIGITS);
  }
}
