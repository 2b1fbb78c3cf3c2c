/**
 * The answers of the TURN server to a request (RFC 8489 §6.3, §9.2.4): challenges (401, 438 with
 * REALM and NONCE), errors to requests not (yet) authenticated (never larger than the request),
 * errors and successes signed with the key of an authenticated request, 420 with
 * UNKNOWN-ATTRIBUTES. Each goes back on the listener and to the address the request came from.
 */
import { StunAttr, StunMessageBuilder, type StunMessage } from '../stun/index.js';
import type { TurnListener } from './five-tuple.js';
import { OFFERED_PASSWORD_ALGORITHMS, type NonceIssuer } from './nonce.js';
import type { TurnStats } from './server-stats.js';

/** Where a request came from: the listener it reached and the client's address. */
export interface Source {
  readonly listener: TurnListener;
  readonly address: string;
  readonly port: number;
}

/** A request that passed the long-term credential check. */
export interface Authenticated {
  readonly key: Uint8Array;
  readonly username: string;
  readonly user: string;
  /** The request was signed with MESSAGE-INTEGRITY-SHA256: so is the response. */
  readonly sha256: boolean;
}

/** An error response's code and reason phrase. */
export type ErrorAnswer = readonly [code: number, reason: string];

export class Answers {
  constructor(
    private readonly o: { readonly realm: string; readonly nonces: NonceIssuer },
    private readonly stats: TurnStats,
  ) {}

  /**
   * A 401 or 438 with REALM, a new NONCE and PASSWORD-ALGORITHMS (RFC 8489 §9.2.4: "If the server
   * adds a PASSWORD-ALGORITHMS attribute, it MUST set the STUN Security Feature "Password
   * algorithms" bit to 1"; a 438 "MUST include NONCE, REALM, and PASSWORD-ALGORITHMS"). Every
   * 401 is this one, whatever was wrong (no credentials, unknown user, wrong password, other
   * realm): the same attributes in the same order, sizes that depend on the client's address and
   * port only.
   */
  challenge(src: Source, m: StunMessage, code: 401 | 438, reason: string): void {
    const b = new StunMessageBuilder(m.method, 'error', m.transactionId)
      .addErrorCode(code, reason)
      .addString(StunAttr.REALM, this.o.realm)
      .addString(StunAttr.NONCE, this.o.nonces.issue(src.address, src.port))
      .add(StunAttr.PASSWORD_ALGORITHMS, OFFERED_PASSWORD_ALGORITHMS);
    this.sendUnauthenticated(src, m, b, code, true);
  }

  /**
   * An error to a request not (yet) authenticated: no MESSAGE-INTEGRITY, no SOFTWARE. Never
   * larger than the request (no amplification towards a spoofed source): a larger one is not
   * sent. The 401/438 challenges are the exception (see sendUnauthenticated).
   */
  unauthenticatedError(src: Source, m: StunMessage, [code, reason]: ErrorAnswer): void {
    this.sendUnauthenticated(src, m, new StunMessageBuilder(m.method, 'error', m.transactionId).addErrorCode(code, reason), code, false);
  }

  private sendUnauthenticated(src: Source, m: StunMessage, b: StunMessageBuilder, code: number, challenge: boolean): void {
    if (m.get(StunAttr.FINGERPRINT) !== undefined) b.addFingerprint();
    const bytes = b.build();
    // DEVIATION(issue 16 "no amplification"): a challenge (401, 438) is sent even when it is
    // larger than the request: its REALM and NONCE are what a client needs to authenticate at
    // all, and turnutils_uclient's first Allocate (60 bytes) or a browser's (28) is smaller than
    // any challenge that carries them. It is 20 + 20 (ERROR-CODE) + 4 + realm + 48 (NONCE) + 12
    // (PASSWORD-ALGORITHMS) bytes (+8 with FINGERPRINT), the realm padded to 4: 116 for a realm
    // of 12 characters. No SOFTWARE, and a source that keeps failing is blocked (limiter).
    if (!challenge && bytes.length > m.bytes.length) {
      this.stats.amplificationDrops++;
      return;
    }
    this.countError(code);
    src.listener.send(bytes, src.port, src.address);
  }

  /** An error to an authenticated request: signed with its key (RFC 8489 §9.2.4). */
  authenticatedError(src: Source, m: StunMessage, auth: Authenticated | undefined, [code, reason]: ErrorAnswer): void {
    if (auth === undefined) {
      this.unauthenticatedError(src, m, [code, reason]);
      return;
    }
    this.countError(code);
    src.listener.send(this.sign(new StunMessageBuilder(m.method, 'error', m.transactionId).addErrorCode(code, reason), m, auth), src.port, src.address);
  }

  /** A success (or any answer built by the caller) to an authenticated request, signed. */
  signed(src: Source, m: StunMessage, auth: Authenticated, b: StunMessageBuilder): void {
    src.listener.send(this.sign(b, m, auth), src.port, src.address);
  }

  /**
   * RFC 8489 §6.3.1: "the server replies with an error response with an error code of 420
   * (Unknown Attribute) and includes an UNKNOWN-ATTRIBUTES attribute in the response that lists
   * the unknown comprehension-required attributes."
   */
  unknownAttributes(src: Source, m: StunMessage, auth: Authenticated, types: readonly number[]): void {
    const list = new Uint8Array(types.length * 2);
    types.forEach((t, i) => {
      list[2 * i] = t >> 8;
      list[2 * i + 1] = t & 0xff;
    });
    this.countError(420);
    const b = new StunMessageBuilder(m.method, 'error', m.transactionId).addErrorCode(420, 'Unknown Attribute').add(StunAttr.UNKNOWN_ATTRIBUTES, list);
    src.listener.send(this.sign(b, m, auth), src.port, src.address);
  }

  /** MESSAGE-INTEGRITY (or -SHA256, as the request) with the key, then FINGERPRINT when the request had one. */
  sign(b: StunMessageBuilder, m: StunMessage, auth: Authenticated): Uint8Array {
    if (auth.sha256) b.addMessageIntegritySha256(auth.key);
    else b.addMessageIntegrity(auth.key);
    if (m.get(StunAttr.FINGERPRINT) !== undefined) b.addFingerprint();
    return b.build();
  }

  countError(code: number): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }
}
