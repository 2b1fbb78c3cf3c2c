/**
 * The long-term credential mechanism on the server side (RFC 8489 §9.2.4): the checks before a
 * key is looked up (blocked source, 401 without credentials, 400 when some are missing, 400 for
 * PASSWORD-ALGORITHM(S) that are not what this server offered, 438 for a stale nonce), then the
 * user found by USERNAME or USERHASH and MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 checked
 * with the user's keys of the password algorithm the request chose (401, counted in the
 * failed-authentication limiter).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { nonceFeatures, SecurityFeature, selectPasswordAlgorithm, userHash } from '../stun/credentials.js';
import { StunAttr, verifyMessageIntegrity, verifyMessageIntegritySha256, type StunMessage } from '../stun/index.js';
import type { Answers, Authenticated, Source } from './answers.js';

/** What an allocation keeps of the credentials it was made with. */
interface AllocationCredentials {
  readonly username: string;
  readonly user: string;
  readonly key: Uint8Array;
}
import { OFFERED_PASSWORD_ALGORITHMS, type NonceIssuer } from './nonce.js';
import type { TurnStats } from './server-stats.js';
import { KEY_BYTES, type KeyAlgorithm, type TurnCredentials, type TurnKeys } from './turn-credentials.js';

/** Failed authentications per source (SIP's FailureLimiter fits). */
export interface AuthFailureLimit {
  isBlocked(address: string): boolean;
  recordFailure(address: string): unknown;
}

export interface RequestAuthenticationOptions {
  readonly realm: string;
  readonly nonces: NonceIssuer;
  readonly credentials: TurnCredentials;
  readonly limiter?: AuthFailureLimit;
}

/** A request that passed the checks before the key: who it names, and the key's algorithm. */
export type Precheck =
  | { readonly username: string; readonly userhash?: undefined; readonly algorithm: KeyAlgorithm }
  | { readonly username?: undefined; readonly userhash: Uint8Array; readonly algorithm: KeyAlgorithm };

/**
 * Keys that match nothing, one per algorithm: an unknown user's request is checked against one
 * of them, so that it costs the same HMAC as a known user's with a wrong password.
 */
const NOBODY: Readonly<Record<KeyAlgorithm, Uint8Array>> = { md5: randomBytes(KEY_BYTES.md5), sha256: randomBytes(KEY_BYTES.sha256) };

/** USERHASH is 32 bytes (RFC 8489 §14.4). */
const USERHASH_BYTES = 32;

export class RequestAuthentication {
  constructor(
    private readonly o: RequestAuthenticationOptions,
    private readonly answers: Answers,
    private readonly stats: TurnStats,
  ) {}

  /**
   * The checks before any key is looked up. Returns who the request names and the password
   * algorithm when it may go on; otherwise it has been answered (401 without credentials, 400
   * when some are missing or the password algorithms are wrong, 438 for a stale nonce) or
   * dropped (a blocked source).
   */
  precheck(src: Source, m: StunMessage): Precheck | undefined {
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
    const hash = m.get(StunAttr.USERHASH);
    const realm = m.get(StunAttr.REALM);
    const nonce = m.get(StunAttr.NONCE);
    if ((username === undefined && hash === undefined) || realm === undefined || nonce === undefined) {
      this.answers.unauthenticatedError(src, m, [400, 'Bad Request']);
      return undefined;
    }
    // USERHASH is "32 bytes" (RFC 8489 §14.4); a malformed attribute is a 400 too
    if (username === undefined && hash!.value.length !== USERHASH_BYTES) {
      this.answers.unauthenticatedError(src, m, [400, 'Malformed USERHASH']);
      return undefined;
    }
    // "If the NONCE attribute starts with the "nonce cookie" with the STUN Security Feature
    // "Password algorithms" bit set to 1, the server performs these checks in the order
    // specified: If the request contains neither the PASSWORD-ALGORITHMS nor the
    // PASSWORD-ALGORITHM algorithm, then the request is processed as though PASSWORD-ALGORITHM
    // were MD5. Otherwise, unless (1) PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS are both present,
    // (2) PASSWORD-ALGORITHMS matches the value sent in the response that sent this NONCE, and (3)
    // PASSWORD-ALGORITHM matches one of the entries in PASSWORD-ALGORITHMS, the server MUST
    // generate an error response with an error code of 400 (Bad Request)."
    let algorithm: KeyAlgorithm = 'md5';
    const features = nonceFeatures(nonce.value);
    if (features !== undefined && (features & SecurityFeature.PasswordAlgorithms) !== 0) {
      const chosen = selectPasswordAlgorithm(m, OFFERED_PASSWORD_ALGORITHMS);
      if (!chosen.ok) {
        this.answers.unauthenticatedError(src, m, [400, chosen.error.reason]);
        return undefined;
      }
      algorithm = chosen.value;
    }
    // "If the NONCE is no longer valid, the server MUST generate an error response with an error
    // code of 438 (Stale Nonce). This response MUST include NONCE, REALM, and PASSWORD-ALGORITHMS
    // attributes"
    if (this.o.nonces.check(utf8(nonce.value), src.address) !== 'valid') {
      this.answers.challenge(src, m, 438, 'Stale Nonce');
      return undefined;
    }
    // USERNAME wins when a request carries both (RFC 8489 §14.4 has a client send one of them)
    return username !== undefined ? { username: utf8(username.value), algorithm } : { userhash: hash!.value, algorithm };
  }

  /**
   * The user a request names and its keys of the request's algorithm, looked up: by USERNAME, or
   * by USERHASH through the credentials' index of hashes (RFC 8489 §9.2.4: "Using the password
   * associated with the username or the anonymized username contained in the USERHASH
   * attribute"). Undefined keys for an unknown user or hash.
   */
  async lookUp(pre: Precheck): Promise<{ readonly username: string | undefined; readonly found: TurnKeys | undefined }> {
    const username = pre.username ?? (await this.o.credentials.usernameOfHash?.(pre.userhash, this.o.realm));
    if (username === undefined) return { username, found: undefined };
    return { username, found: await this.o.credentials.keys(username, this.o.realm, pre.algorithm) };
  }

  /**
   * Whether a request on an allocation names the allocation's user (RFC 8656 §5: "the server
   * MUST verify that the USERNAME or USERHASH attribute in the request is the same as the one
   * used to create the allocation") and chose the password algorithm of its key (a key of
   * another algorithm is other credentials: 441 too).
   */
  private sameCredentials(pre: Precheck, allocation: AllocationCredentials): boolean {
    if (allocation.key.length !== KEY_BYTES[pre.algorithm]) return false;
    if (pre.username !== undefined) return pre.username === allocation.username;
    return timingSafeEqual(pre.userhash, userHash(allocation.username, this.o.realm));
  }
  /**
   * A request on an allocation: 441 (Wrong Credentials) unless it names the allocation's user with
   * its password algorithm (`sameCredentials`), then checked with the allocation's key (`verify`).
   * Undefined when it was answered.
   */
  verifyForAllocation(src: Source, m: StunMessage, pre: Precheck, allocation: AllocationCredentials): Authenticated | undefined {
    if (!this.sameCredentials(pre, allocation)) {
      this.answers.unauthenticatedError(src, m, [441, 'Wrong Credentials']);
      return undefined;
    }
    return this.verify(src, m, pre, allocation.username, { keys: [allocation.key], user: allocation.user });
  }


  /**
   * "Using the password associated with the username [...], compute the value for the message
   * integrity [...]. If the resulting value does not match the contents of the corresponding
   * MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 attribute, the server MUST reject the request
   * with an error response. This response MUST use an error code of 401" — and so does an unknown
   * user: the two cannot be told apart from outside (the same challenge, and an unknown user's
   * request is checked against a key that matches nothing, so it costs the same HMAC). A REALM
   * other than ours is answered the same way (the key is made with ours). When a request carries
   * both integrity attributes, MESSAGE-INTEGRITY-SHA256 is the one checked.
   */
  verify(src: Source, m: StunMessage, pre: Precheck, username: string | undefined, found: TurnKeys | undefined): Authenticated | undefined {
    const sha256 = m.get(StunAttr.MESSAGE_INTEGRITY_SHA256) !== undefined;
    const realm = m.get(StunAttr.REALM);
    const ours = realm !== undefined && utf8(realm.value) === this.o.realm;
    const candidates = found !== undefined && ours ? found.keys : [NOBODY[pre.algorithm]];
    let key: Uint8Array | undefined;
    for (const k of candidates) {
      if (sha256 ? verifyMessageIntegritySha256(m, k) : verifyMessageIntegrity(m, k)) {
        key = k;
        break;
      }
    }
    if (key === undefined || found === undefined || username === undefined || !ours) {
      this.o.limiter?.recordFailure(src.address);
      this.answers.challenge(src, m, 401, 'Unauthorized');
      return undefined;
    }
    return { key, username, user: found.user, sha256 };
  }
}

const decoder = new TextDecoder();
function utf8(b: Uint8Array): string {
  return decoder.decode(b);
}
