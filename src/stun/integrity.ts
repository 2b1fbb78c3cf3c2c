/**
 * MESSAGE-INTEGRITY (RFC 8489 §14.5, HMAC-SHA1) and MESSAGE-INTEGRITY-SHA256 (§14.6).
 *
 * "The text used as input to HMAC is the STUN message, up to and including the attribute preceding
 * the MESSAGE-INTEGRITY attribute. The Length field of the STUN message header is adjusted to point
 * to the end of the MESSAGE-INTEGRITY attribute." The HMAC is fed the header with that length and
 * the bytes after it in place: nothing is copied.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { StunAttr } from './attribute-types.js';
import { STUN_HEADER_SIZE, type StunMessage } from './message.js';

/** The size of a MESSAGE-INTEGRITY value (HMAC-SHA1). */
export const MESSAGE_INTEGRITY_SIZE = 20;
/** The size of a full MESSAGE-INTEGRITY-SHA256 value (HMAC-SHA256). */
export const MESSAGE_INTEGRITY_SHA256_SIZE = 32;

/**
 * HMAC over `bytes[0, attrOffset)` with the header's length field replaced so that the message
 * ends after an attribute of `valueLength` bytes at `attrOffset`.
 */
export function integrityHmac(algorithm: 'sha1' | 'sha256', key: Uint8Array, bytes: Uint8Array, attrOffset: number, valueLength: number): Buffer {
  const length = attrOffset + 4 + valueLength - STUN_HEADER_SIZE;
  const hmac = createHmac(algorithm, key);
  hmac.update(bytes.subarray(0, 2));
  hmac.update(Uint8Array.of(length >> 8, length & 0xff));
  hmac.update(bytes.subarray(4, attrOffset));
  return hmac.digest();
}

/**
 * True when `m` has a MESSAGE-INTEGRITY attribute that is the HMAC-SHA1 of the message under
 * `key` (RFC 8489 §9.1.3 for a short-term password, §9.2.2 for the long-term key). Compared in
 * constant time.
 */
export function verifyMessageIntegrity(m: StunMessage, key: Uint8Array): boolean {
  const a = m.get(StunAttr.MESSAGE_INTEGRITY);
  if (a === undefined || a.value.length !== MESSAGE_INTEGRITY_SIZE) return false;
  const expected = integrityHmac('sha1', key, m.bytes, a.offset, MESSAGE_INTEGRITY_SIZE);
  return timingSafeEqual(expected, a.value);
}

/**
 * True when `m` has a MESSAGE-INTEGRITY-SHA256 attribute that matches the HMAC-SHA256 of the
 * message under `key`. RFC 8489 §14.6: "The value will be at most 32 bytes, but it MUST be at
 * least 16 bytes and MUST be a multiple of 4 bytes"; a shorter value is compared with as many
 * leading bytes of the HMAC ("truncated to the leftmost bits"). Compared in constant time.
 */
export function verifyMessageIntegritySha256(m: StunMessage, key: Uint8Array): boolean {
  const a = m.get(StunAttr.MESSAGE_INTEGRITY_SHA256);
  if (a === undefined) return false;
  const n = a.value.length;
  if (n < 16 || n > MESSAGE_INTEGRITY_SHA256_SIZE || n % 4 !== 0) return false;
  const expected = integrityHmac('sha256', key, m.bytes, a.offset, n);
  return timingSafeEqual(expected.subarray(0, n), a.value);
}
