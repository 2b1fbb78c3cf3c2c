import { timingSafeEqual } from 'node:crypto';
import { digestHash, type DigestAlgorithm } from './hash.js';

/** What the `response` parameter is computed from (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1). */
export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** H(username ":" realm ":" password), lower-case hex (RFC 7616 §3.4.2); the store keeps it. */
  readonly ha1: string;
  /** The request method (`REGISTER`, `INVITE`); in SIP, the method of the request, not of CSeq. */
  readonly method: string;
  /** The `uri` parameter of the credentials, exactly as sent. */
  readonly digestUri: string;
  /** The `nonce` parameter, unquoted. */
  readonly nonce: string;
  /**
   * The `qop` parameter as sent (`auth`), or undefined for the RFC 2069 form. Only `auth` is
   * computed: `auth-int` needs H(entity-body) and Parley never offers it.
   */
  readonly qop?: string;
  /** The `nc` parameter as sent (8 hex digits); required with qop. */
  readonly nc?: string;
  /** The `cnonce` parameter, unquoted; required with qop. */
  readonly cnonce?: string;
}

/**
 * The expected `response` of digest credentials, lower-case hex.
 *
 * With qop (RFC 7616 §3.4.1):
 *   "response = <"> < KD ( H(A1), unq(nonce) ":" nc ":" unq(cnonce) ":" unq(qop) ":" H(A2) ) <">"
 *   "If the qop parameter's value is "auth" or is unspecified, then A2 is: A2 = Method ":" request-uri"
 * and KD(secret, data) = H(concat(secret, ":", data)) (§3.4).
 *
 * Without qop, the RFC 2069 compatibility form (RFC 2617 §3.2.2.1):
 *   "request-digest = <"> < KD ( H(A1), unq(nonce-value) ":" H(A2) ) > <">"
 *
 * The `-sess` algorithms and qop=auth-int are not computed (see README): the caller rejects
 * credentials that ask for them before coming here, and this function throws a TypeError if
 * asked anyway (a programmer error, not bad input).
 */
export function computeDigestResponse(input: DigestResponseInput): string {
  const { algorithm, ha1, method, digestUri, nonce, qop, nc, cnonce } = input;
  const ha2 = digestHash(algorithm, `${method}:${digestUri}`);
  if (qop === undefined) return digestHash(algorithm, `${ha1}:${nonce}:${ha2}`);
  if (qop.toLowerCase() !== 'auth') throw new TypeError(`computeDigestResponse: qop "${qop}" is not supported`);
  if (nc === undefined || cnonce === undefined) throw new TypeError('computeDigestResponse: qop needs nc and cnonce');
  return digestHash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
}

/**
 * Compare an expected response with the one received, in time that does not depend on where
 * they differ (hex case ignored). Different lengths compare unequal at once: the length of a
 * hash is no secret.
 */
export function digestResponseEquals(expected: string, received: string): boolean {
  if (expected.length !== received.length) return false;
  return timingSafeEqual(Buffer.from(expected.toLowerCase(), 'latin1'), Buffer.from(received.toLowerCase(), 'latin1'));
}
