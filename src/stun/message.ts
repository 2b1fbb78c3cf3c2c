/**
 * The STUN message (RFC 8489 §5, §6, §14): a 20-byte header and attributes in
 * type-length-value form, each padded to a multiple of 4 bytes.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Parsing never throws and never copies: the message, its transaction ID and every attribute value
 * are views of the bytes given.
 */
import { randomBytesFromPool } from '../lib/random-pool.js';
import { err, ok, type Result } from '../lib/result.js';

/** RFC 8489 §5: "The Magic Cookie field MUST contain the fixed value 0x2112A442 in network byte order." */
export const MAGIC_COOKIE = 0x2112a442;

/** The size of the STUN header (RFC 8489 §5). */
export const STUN_HEADER_SIZE = 20;

/** RFC 8489 §5: the two class bits C1 C0 — 0b00 request, 0b01 indication, 0b10 success response, 0b11 error response. */
export type StunClass = 'request' | 'indication' | 'success' | 'error';

const CLASSES: readonly StunClass[] = ['request', 'indication', 'success', 'error'];
const CLASS_BITS: Readonly<Record<StunClass, number>> = { request: 0, indication: 1, success: 2, error: 3 };

/** Methods of RFC 8489 §18.2, RFC 8656 §17 and RFC 6062 §6.1. */
export const StunMethod = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
  Connect: 0x00a,
  ConnectionBind: 0x00b,
  ConnectionAttempt: 0x00c,
} as const;

/** One attribute: its type, its value (a view, without padding) and the offset of its 4-byte header in the message. */
export interface StunAttribute {
  readonly type: number;
  readonly value: Uint8Array;
  readonly offset: number;
}

/** A parsed STUN message; `bytes` is the whole message as received (a view). */
export interface StunMessage {
  readonly method: number;
  readonly class: StunClass;
  /** The 96-bit transaction ID (a view of `bytes`). */
  readonly transactionId: Uint8Array;
  /** The attributes in the order they came, without those the RFC says to ignore (after MESSAGE-INTEGRITY, ...). */
  readonly attributes: readonly StunAttribute[];
  readonly bytes: Uint8Array;
  /** The first attribute of that type. */
  get(type: number): StunAttribute | undefined;
}

/** Why a message could not be parsed, and the byte offset where parsing stopped. */
export interface StunParseError {
  readonly reason: string;
  readonly offset: number;
}

/** The 14-bit message type of RFC 8489 §5: method bits M11..M0 interleaved with the class bits C1 C0. */
export function messageType(method: number, cls: StunClass): number {
  const c = CLASS_BITS[cls];
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7);
}

/** The method of a message type (the inverse of `messageType`). */
export function methodOf(type: number): number {
  return (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
}

/** The class of a message type. */
export function classOf(type: number): StunClass {
  return CLASSES[((type >> 7) & 2) | ((type >> 4) & 1)]!;
}

// RFC 8489 §14.5, §14.6, §14.7 (attribute types, repeated here so that message.ts stands alone)
const MESSAGE_INTEGRITY = 0x0008;
const MESSAGE_INTEGRITY_SHA256 = 0x001c;
const FINGERPRINT = 0x8028;

class ParsedStunMessage implements StunMessage {
  readonly method: number;
  readonly class: StunClass;
  readonly transactionId: Uint8Array;
  readonly attributes: readonly StunAttribute[];
  readonly bytes: Uint8Array;

  constructor(method: number, cls: StunClass, transactionId: Uint8Array, attributes: readonly StunAttribute[], bytes: Uint8Array) {
    this.method = method;
    this.class = cls;
    this.transactionId = transactionId;
    this.attributes = attributes;
    this.bytes = bytes;
  }

  get(type: number): StunAttribute | undefined {
    const attributes = this.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const a = attributes[i]!;
      if (a.type === type) return a;
    }
    return undefined;
  }
}

function failure(reason: string, offset: number): { readonly ok: false; readonly error: StunParseError } {
  return err({ reason, offset });
}

/**
 * A cheap look at the header: could these bytes be one STUN message? (RFC 8489 §5: "The most
 * significant 2 bits of every STUN message MUST be zeroes"; the magic cookie; "the message length
 * MUST contain the size of the message in bytes, not including the 20-byte STUN header. Since all
 * STUN attributes are padded to a multiple of 4 bytes, the last 2 bits of this field are always
 * zero.") The length is not compared with the size of `bytes`: over a stream the header comes
 * before the rest.
 */
export function isStunMessage(bytes: Uint8Array): boolean {
  return (
    bytes.length >= STUN_HEADER_SIZE &&
    (bytes[0]! & 0xc0) === 0 &&
    (bytes[3]! & 0x03) === 0 &&
    bytes[4] === 0x21 &&
    bytes[5] === 0x12 &&
    bytes[6] === 0xa4 &&
    bytes[7] === 0x42
  );
}

/**
 * Parses one whole STUN message (a datagram, or one message cut from a stream). Never throws.
 *
 * The header must say exactly the size of `bytes`; each attribute must fit in the message with its
 * padding. Padding bytes are not checked (RFC 8489 §14: "the padding bits MUST be ignored").
 */
export function parseStunMessage(bytes: Uint8Array): Result<StunMessage, StunParseError> {
  if (bytes.length < STUN_HEADER_SIZE) return failure(`message of ${bytes.length} bytes is shorter than the 20-byte header`, bytes.length);
  const b0 = bytes[0]!;
  if ((b0 & 0xc0) !== 0) return failure('the first two bits are not zero', 0);
  if (bytes[4] !== 0x21 || bytes[5] !== 0x12 || bytes[6] !== 0xa4 || bytes[7] !== 0x42) return failure('no magic cookie', 4);
  const length = (bytes[2]! << 8) | bytes[3]!;
  if ((length & 3) !== 0) return failure(`message length ${length} is not a multiple of 4`, 2);
  if (STUN_HEADER_SIZE + length !== bytes.length) {
    return failure(`message length ${length} does not match the ${bytes.length - STUN_HEADER_SIZE} bytes after the header`, 2);
  }
  const type = (b0 << 8) | bytes[1]!;
  const attributes: StunAttribute[] = [];
  const end = bytes.length;
  let offset = STUN_HEADER_SIZE;
  // RFC 8489 §14.5: "With the exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
  // attributes, which appear after MESSAGE-INTEGRITY, agents MUST ignore all other attributes that
  // follow MESSAGE-INTEGRITY." §14.6: the same after MESSAGE-INTEGRITY-SHA256, FINGERPRINT
  // excepted. §14.7: "When present, the FINGERPRINT attribute MUST be the last attribute in the
  // message": what follows it is ignored too.
  let seen = 0; // 0 nothing, 1 MESSAGE-INTEGRITY, 2 MESSAGE-INTEGRITY-SHA256, 3 FINGERPRINT
  // offset and end are multiples of 4, so a whole attribute header always fits, and a value that
  // fits has room for its padding.
  while (offset < end) {
    const attrType = (bytes[offset]! << 8) | bytes[offset + 1]!;
    const attrLength = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    const valueStart = offset + 4;
    if (attrLength > end - valueStart) {
      return failure(`attribute 0x${attrType.toString(16).padStart(4, '0')} of length ${attrLength} runs past the end of the message`, offset);
    }
    const next = valueStart + ((attrLength + 3) & ~3);
    let keep: boolean;
    if (seen === 0) {
      keep = true;
      if (attrType === MESSAGE_INTEGRITY) seen = 1;
      else if (attrType === MESSAGE_INTEGRITY_SHA256) seen = 2;
      else if (attrType === FINGERPRINT) seen = 3;
    } else if (seen === 1 && attrType === MESSAGE_INTEGRITY_SHA256) {
      keep = true;
      seen = 2;
    } else if (seen < 3 && attrType === FINGERPRINT) {
      keep = true;
      seen = 3;
    } else {
      keep = false;
    }
    if (keep) attributes.push({ type: attrType, value: bytes.subarray(valueStart, valueStart + attrLength), offset });
    offset = next;
  }
  return ok(new ParsedStunMessage(methodOf(type), classOf(type), bytes.subarray(8, STUN_HEADER_SIZE), attributes, bytes));
}

/**
 * A new transaction ID, 12 bytes of its own. RFC 8489 §5: "The transaction ID MUST be uniformly and
 * randomly chosen from the interval 0 .. 2**96-1, and MUST be cryptographically random."
 */
export function newTransactionId(): Uint8Array {
  return randomBytesFromPool(12).slice();
}
