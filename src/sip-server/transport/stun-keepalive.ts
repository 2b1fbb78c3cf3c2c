/**
 * STUN keepalives on the SIP UDP port (RFC 5626 §8.4, §3.5.1): a user agent behind a NAT sends
 * STUN Binding requests to the port it registered through, and learns from the answer whether its
 * public address changed. RFC 5626 §8.4 has edge proxies support these keepalives on their SIP UDP
 * ports (RFC 5389, now RFC 8489, on the same port as SIP).
 *
 * Answered where the socket is read, before any hand-off to a SIP worker (a Binding request has
 * no Call-ID to route by, and no state to find): a Binding request gets a Binding success response
 * with XOR-MAPPED-ADDRESS, the datagram's source (RFC 8489 §6.3.1), and FINGERPRINT when the
 * request had one; anything else that begins like STUN (indications, responses, bytes that do not
 * parse, a wrong FINGERPRINT) is dropped and counted. None of it reaches the SIP parser.
 */
import {
  isStunMessage, parseStunMessage, StunAttr, StunMessageBuilder, StunMethod, unknownComprehensionRequired, unknownAttributesValue,
  verifyFingerprint, STUN_REASONS,
} from '../../stun/index.js';

/**
 * Comprehension-required attributes a Binding request may carry that this server understands,
 * in the sense of RFC 8489 §6.3: it reads none of them but knows what they are (the
 * credentials of a short-term mechanism it does not use, and ICE's, RFC 8445 §16.1). Others get
 * a 420.
 */
const KNOWN = new Set<number>([
  StunAttr.MAPPED_ADDRESS, StunAttr.USERNAME, StunAttr.MESSAGE_INTEGRITY, StunAttr.ERROR_CODE, StunAttr.UNKNOWN_ATTRIBUTES,
  StunAttr.REALM, StunAttr.NONCE, StunAttr.MESSAGE_INTEGRITY_SHA256, StunAttr.PASSWORD_ALGORITHM, StunAttr.USERHASH,
  StunAttr.XOR_MAPPED_ADDRESS, StunAttr.PRIORITY, StunAttr.USE_CANDIDATE,
]);

/** Counters of the STUN datagrams a SIP UDP socket read. */
export interface StunKeepaliveStats {
  /** Binding requests answered (success, or 420). */
  answered: number;
  /** STUN-like datagrams dropped: not a Binding request, malformed, or a wrong FINGERPRINT. */
  dropped: number;
}

export function newStunKeepaliveStats(): StunKeepaliveStats {
  return { answered: 0, dropped: 0 };
}

/**
 * The answer to a STUN datagram from `address`:`port` (an address as Parley stores it: IPv4
 * unmapped, see flow.ts normalizeAddress), or undefined to drop it. Counts in `stats`.
 */
export function answerStun(bytes: Uint8Array, address: string, port: number, stats: StunKeepaliveStats): Uint8Array | undefined {
  if (!isStunMessage(bytes)) {
    stats.dropped++;
    return undefined;
  }
  const parsed = parseStunMessage(bytes);
  if (!parsed.ok) {
    stats.dropped++;
    return undefined;
  }
  const m = parsed.value;
  // Indications and responses are never answered (RFC 8489 §6.3); a request of another method is
  // dropped too: this port is a STUN server for Binding alone, and a TURN request sent here by
  // mistake is better unanswered than refused with a code a client might act on.
  if (m.class !== 'request' || m.method !== StunMethod.Binding) {
    stats.dropped++;
    return undefined;
  }
  // RFC 8489 §7.3 (FINGERPRINT tells STUN from other protocols on a shared port): a wrong one
  // means this is not a STUN message, so it is dropped.
  const fingerprint = m.get(StunAttr.FINGERPRINT) !== undefined;
  if (fingerprint && !verifyFingerprint(m)) {
    stats.dropped++;
    return undefined;
  }
  const unknown = unknownComprehensionRequired(m, KNOWN);
  if (unknown.length > 0) {
    // RFC 8489 §6.3.1: "If the request contains one or more unknown comprehension-required
    // attributes, the server replies with an error response with an error code of 420 (Unknown
    // Attribute) and includes an UNKNOWN-ATTRIBUTES attribute in the response that lists the
    // unknown comprehension-required attributes."
    const answer = new StunMessageBuilder(StunMethod.Binding, 'error', m.transactionId)
      .addErrorCode(420, STUN_REASONS[420]!)
      .add(StunAttr.UNKNOWN_ATTRIBUTES, unknownAttributesValue(unknown));
    if (fingerprint) answer.addFingerprint();
    stats.answered++;
    return answer.build();
  }
  // RFC 8489 §6.3.1.1: a Binding success response carries XOR-MAPPED-ADDRESS, the source
  // transport address of the request; FINGERPRINT goes back when the request had it (RFC 5626
  // keepalive clients include it, as the port is shared with SIP).
  const answer = new StunMessageBuilder(StunMethod.Binding, 'success', m.transactionId, 64)
    .addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, { family: address.includes(':') ? 6 : 4, address, port });
  if (fingerprint) answer.addFingerprint();
  stats.answered++;
  return answer.build();
}
