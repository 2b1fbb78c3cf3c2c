/**
 * Nonces of the long-term credential mechanism (RFC 8489 §9.2), stateless: the nonce cookie with
 * this server's security features, the expiry time, the client's port, and an HMAC of these with
 * the client's address under a secret of this server, so that any nonce this server made for this
 * client is recognised without a table, and an old one is stale.
 *
 * RFC 8489 §9.2: "the nonce [...] is used to enable the server to detect that a request is
 * recent and [...] should be valid for a limited time."
 *
 *   obMatJos2AAAD  6a1b2c3d  c350  0123456789abcdef
 *   cookie+features expiry   port  MAC(cookie+features, expiry, port, address)
 *
 * RFC 8489 §9.2.4: "The server MUST NOT choose the same NONCE for two requests unless they have
 * the same source IP address and port": the port is in the nonce. It is not checked against the
 * port of a later request: a client may take its nonce from one socket to another of the same
 * address (as before RFC 8489), and a 5-tuple's allocation is bound by the 5-tuple anyway.
 *
 * The MAC covers the cookie and its feature bits: a nonce whose bits were changed on the way (to
 * make the client believe SHA-256 or USERHASH are not offered, a bid-down) is not one of ours and
 * is answered 438.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { nonceCookie, PasswordAlgorithm, passwordAlgorithmsValue, SecurityFeature } from '../stun/credentials.js';

/** Characters of a nonce: 13 of the cookie, 8 hex digits of the expiry (seconds), 4 of the port, 16 of the MAC. */
const COOKIE_CHARS = 13;
const EXPIRY_DIGITS = 8;
const PORT_DIGITS = 4;
const MAC_DIGITS = 16;
const NONCE_CHARS = COOKIE_CHARS + EXPIRY_DIGITS + PORT_DIGITS + MAC_DIGITS;

/**
 * The security features of this server's nonces (RFC 8489 §18.1): password algorithms
 * (PASSWORD-ALGORITHMS in every 401 and 438) and username anonymity (USERHASH accepted).
 */
export const TURN_SECURITY_FEATURES = SecurityFeature.PasswordAlgorithms | SecurityFeature.UsernameAnonymity;

/**
 * The PASSWORD-ALGORITHMS value of every 401 and 438, in the server's order of preference
 * (RFC 8489 §9.2.4: "it can list them in preferential order"): SHA-256 first, as RFC 8489
 * §18.5.1.1 keeps MD5 for legacy systems; MD5 second, for clients that take the list and still
 * want it. Clients of RFC 5389 ignore the list and keep using MD5 with MESSAGE-INTEGRITY.
 */
export const OFFERED_PASSWORD_ALGORITHMS = passwordAlgorithmsValue([PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]);

export type NonceCheck = 'valid' | 'stale';

export class NonceIssuer {
  private readonly cookie: string;

  constructor(
    private readonly secret: Uint8Array,
    /** How long a nonce stays valid, ms. */
    private readonly lifetimeMs: number,
    /** Wall-clock time, ms (nonces outlive nothing but they cross threads: not the monotonic clock). */
    private readonly now: () => number = Date.now,
    /** The security-feature bits of the cookie (RFC 8489 §18.1). */
    features: number = TURN_SECURITY_FEATURES,
  ) {
    this.cookie = nonceCookie(features);
  }

  /** A fresh nonce for a client at `address`:`port`. */
  issue(address: string, port: number): string {
    const expiry = Math.ceil((this.now() + this.lifetimeMs) / 1000)
      .toString(16)
      .padStart(EXPIRY_DIGITS, '0');
    const p = (port & 0xffff).toString(16).padStart(PORT_DIGITS, '0');
    return this.cookie + expiry + p + this.mac(this.cookie + expiry + p, address);
  }

  /**
   * `valid` for a nonce this server issued to this address that has not expired; `stale`
   * otherwise (expired, made for another address, changed, or not one of ours): RFC 8489 §9.2.4
   * answers both with 438 and a new nonce, and the client retries with it.
   */
  check(nonce: string, address: string): NonceCheck {
    if (nonce.length !== NONCE_CHARS) return 'stale';
    const signed = nonce.slice(0, NONCE_CHARS - MAC_DIGITS);
    const expected = Buffer.from(this.mac(signed, address));
    const given = Buffer.from(nonce.slice(NONCE_CHARS - MAC_DIGITS));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'stale';
    const seconds = Number.parseInt(nonce.slice(COOKIE_CHARS, COOKIE_CHARS + EXPIRY_DIGITS), 16);
    return Number.isFinite(seconds) && seconds * 1000 > this.now() ? 'valid' : 'stale';
  }

  private mac(signed: string, address: string): string {
    return createHmac('sha256', this.secret).update(signed).update('\0').update(address).digest('hex').slice(0, MAC_DIGITS);
  }
}
