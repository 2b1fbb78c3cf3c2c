/**
 * The long-term credential mechanism on the server side (RFC 8489 §9.2.4): the checks before a
 * key is looked up (blocked source, 401 without credentials, 400 when some are missing, 438 for a
 * stale nonce), then MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 checked with the user's keys
 * (401, counted in the failed-authentication limiter).
 */
import { StunAttr, verifyMessageIntegrity, verifyMessageIntegritySha256, type StunMessage } from '../stun/index.js';
import type { Answers, Authenticated, Source } from './answers.js';
import type { NonceIssuer } from './nonce.js';
import type { TurnStats } from './server-stats.js';
import type { TurnKeys } from './turn-credentials.js';

/** Failed authentications per source (SIP's FailureLimiter fits). */
export interface AuthFailureLimit {
  isBlocked(address: string): boolean;
  recordFailure(address: string): unknown;
}

export interface RequestAuthenticationOptions {
  readonly realm: string;
  readonly nonces: NonceIssuer;
  readonly limiter?: AuthFailureLimit;
}

export class RequestAuthentication {
  constructor(
    private readonly o: RequestAuthenticationOptions,
    private readonly answers: Answers,
    private readonly stats: TurnStats,
  ) {}

  /**
   * The checks before any key is looked up. Returns the USERNAME when the request may go on;
   * otherwise it has been answered (401 without credentials, 400 when some are missing, 438 for
   * a stale nonce) or dropped (a blocked source).
   */
  precheck(src: Source, m: StunMessage): { readonly username: string } | undefined {
    if (this.o.limiter?.isBlocked(src.address) === true) {
      this.stats.dropped++;
      return undefined;
    }
    // "If the message does not contain a MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 attribute,
    // the server MUST generate an error response with an error code of 401 (Unauthenticated).
    // This response MUST include a REALM value [...] [and] a NONCE"
    if (m.get(StunAttr.MESSAGE_INTEGRITY) === undefined && m.get(StunAttr.MESSAGE_INTEGRITY_SHA256) === undefined) {
      this.answers.challenge(src, m, 401, 'Unauthorized');
      return undefined;
    }
    // "If the message contains a MESSAGE-INTEGRITY or a MESSAGE-INTEGRITY-SHA256 attribute, but
    // is missing either the USERNAME or USERHASH, REALM, or NONCE attribute, the server MUST
    // generate an error response with an error code of 400 (Bad Request)."
    const username = m.get(StunAttr.USERNAME);
    const realm = m.get(StunAttr.REALM);
    const nonce = m.get(StunAttr.NONCE);
    if (username === undefined || realm === undefined || nonce === undefined) {
      this.answers.unauthenticatedError(src, m, [400, 'Bad Request']);
      return undefined;
    }
    // "If the NONCE is no longer valid, the server MUST generate an error response with an error
    // code of 438 (Stale Nonce). This response MUST include NONCE, REALM"
    if (this.o.nonces.check(utf8(nonce.value), src.address) !== 'valid') {
      this.answers.challenge(src, m, 438, 'Stale Nonce');
      return undefined;
    }
    return { username: utf8(username.value) };
  }

  /**
   * "Using the password associated with the username in the USERNAME attribute, compute the value
   * for the message integrity [...]. If the resulting value does not match the contents of the
   * corresponding MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 attribute, the server MUST reject
   * the request with an error response. This response MUST use an error code of 401" — and so
   * does an unknown user: the two cannot be told apart from outside. A REALM other than ours is
   * answered the same way (the key is made with ours).
   */
  verify(src: Source, m: StunMessage, pre: { readonly username: string }, found: TurnKeys | undefined): Authenticated | undefined {
    const sha256 = m.get(StunAttr.MESSAGE_INTEGRITY_SHA256) !== undefined;
    const realm = m.get(StunAttr.REALM);
    let key: Uint8Array | undefined;
    if (found !== undefined && realm !== undefined && utf8(realm.value) === this.o.realm) {
      for (const k of found.keys) {
        if (sha256 ? verifyMessageIntegritySha256(m, k) : verifyMessageIntegrity(m, k)) {
          key = k;
          break;
        }
      }
    }
    if (key === undefined || found === undefined) {
      this.o.limiter?.recordFailure(src.address);
      this.answers.challenge(src, m, 401, 'Unauthorized');
      return undefined;
    }
    return { key, username: pre.username, user: found.user, sha256 };
  }
}

const decoder = new TextDecoder();
function utf8(b: Uint8Array): string {
  return decoder.decode(b);
}
