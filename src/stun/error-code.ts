/**
 * ERROR-CODE (RFC 8489 §14.8).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Reserved, should be 0         |Class|     Number    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reason Phrase (variable)                                ..
 * ```
 */
import { err, ok, type Result } from '../lib/result.js';
import type { StunAttribute, StunParseError } from './message.js';

/**
 * Reason phrases the RFCs suggest for their error codes (RFC 8489 §14.8, RFC 8656 §18 and §11,
 * RFC 6062 §6.3, RFC 6156 §10.2 via RFC 8656).
 */
export const STUN_REASONS: Readonly<Record<number, string>> = {
  300: 'Try Alternate',
  400: 'Bad Request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  446: 'Connection Already Exists',
  447: 'Connection Timeout or Failure',
  486: 'Allocation Quota Reached',
  500: 'Server Error',
  508: 'Insufficient Capacity',
};

/** RFC 8489 §14.8: "The reason phrase MUST be a UTF-8-encoded [RFC3629] sequence of fewer than 128 characters (which can be as long as 509 bytes when encoding them or 763 bytes when decoding them)." */
export const MAX_REASON_BYTES = 763;
/** The longest reason phrase we send, in bytes (the 509 of the sentence above). */
export const MAX_REASON_BYTES_SENT = 509;

const decoder = new TextDecoder('utf-8');

/**
 * The code and reason of an ERROR-CODE attribute. §14.8: "The Class represents the hundreds digit
 * of the error code. The value MUST be between 3 and 6. The Number represents the binary encoding
 * of the error code modulo 100, and its value MUST be between 0 and 99."
 */
export function readErrorCode(a: StunAttribute): Result<{ code: number; reason: string }, StunParseError> {
  const v = a.value;
  if (v.length < 4) return err({ reason: `ERROR-CODE of ${v.length} bytes is shorter than 4`, offset: a.offset + 2 });
  if (v.length > 4 + MAX_REASON_BYTES) return err({ reason: `ERROR-CODE reason of ${v.length - 4} bytes is longer than ${MAX_REASON_BYTES}`, offset: a.offset + 2 });
  const cls = v[2]! & 0x07;
  const number = v[3]!;
  if (cls < 3 || cls > 6) return err({ reason: `ERROR-CODE class ${cls} is not between 3 and 6`, offset: a.offset + 6 });
  if (number > 99) return err({ reason: `ERROR-CODE number ${number} is not between 0 and 99`, offset: a.offset + 7 });
  return ok({ code: cls * 100 + number, reason: decoder.decode(v.subarray(4)) });
}
