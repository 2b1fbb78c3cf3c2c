/**
 * Readers and value writers for the attributes with structure: those of TURN (RFC 8656 §18,
 * RFC 6062 §6.2, RFC 6156 as taken into RFC 8656), UNKNOWN-ATTRIBUTES, USERHASH and the text
 * attributes of RFC 8489. XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS are read with `readXorAddress`
 * (address.ts), ALTERNATE-SERVER with `readAddress`, DATA is the attribute's value as it is,
 * PASSWORD-ALGORITHM(S) are in credentials.ts. Each reader checks the attribute's size and returns
 * the value, or the offset of the fault; whether a value is acceptable (a channel number in range,
 * a transport the server relays) is the server's decision and error code.
 */
import { err, ok, type Result } from '../lib/result.js';
import { FAMILY_IPV4, FAMILY_IPV6 } from './address.js';
import { MAX_REASON_BYTES, MAX_REASON_BYTES_SENT } from './error-code.js';
import type { StunAttribute, StunParseError } from './message.js';

function fail(reason: string, offset: number): { readonly ok: false; readonly error: StunParseError } {
  return err({ reason, offset });
}

function sized(a: StunAttribute, name: string, size: number): StunParseError | undefined {
  return a.value.length === size ? undefined : { reason: `${name} of ${a.value.length} bytes, not ${size}`, offset: a.offset + 2 };
}

/** RFC 8656 §12: "0x4000 through 0x4FFF: These values are the allowed channel numbers (4096 possible values)." */
export const MIN_CHANNEL_NUMBER = 0x4000;
export const MAX_CHANNEL_NUMBER = 0x4fff;

export function isChannelNumber(n: number): boolean {
  return n >= MIN_CHANNEL_NUMBER && n <= MAX_CHANNEL_NUMBER;
}

/** CHANNEL-NUMBER (RFC 8656 §18.1): "a 16-bit unsigned integer, followed by a two-octet RFFU (Reserved For Future Use) field". */
export function readChannelNumber(a: StunAttribute): Result<number, StunParseError> {
  const e = sized(a, 'CHANNEL-NUMBER', 4);
  return e ? err(e) : ok((a.value[0]! << 8) | a.value[1]!);
}

export function channelNumberValue(channel: number): Uint8Array {
  return Uint8Array.of(channel >> 8, channel & 0xff, 0, 0);
}

/** A 32-bit value: LIFETIME (RFC 8656 §18.2, seconds), CONNECTION-ID (RFC 6062 §6.2.1). */
export function readUint32(a: StunAttribute, name = 'attribute'): Result<number, StunParseError> {
  const e = sized(a, name, 4);
  if (e) return err(e);
  const v = a.value;
  return ok(((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0);
}

/** LIFETIME (RFC 8656 §18.2): seconds until the allocation expires. */
export function readLifetime(a: StunAttribute): Result<number, StunParseError> {
  return readUint32(a, 'LIFETIME');
}

/** CONNECTION-ID (RFC 6062 §6.2.1): a 32-bit number naming a peer data connection. */
export function readConnectionId(a: StunAttribute): Result<number, StunParseError> {
  return readUint32(a, 'CONNECTION-ID');
}

/** RFC 8656 §18.7: IANA protocol numbers, UDP; RFC 6062 §6.1: TCP. */
export const TransportProtocol = { UDP: 17, TCP: 6 } as const;

/** REQUESTED-TRANSPORT (RFC 8656 §18.7): the IANA protocol number in 8 bits, then 24 bits reserved. */
export function readRequestedTransport(a: StunAttribute): Result<number, StunParseError> {
  const e = sized(a, 'REQUESTED-TRANSPORT', 4);
  return e ? err(e) : ok(a.value[0]!);
}

export function requestedTransportValue(protocol: number): Uint8Array {
  return Uint8Array.of(protocol, 0, 0, 0);
}

/**
 * REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.8) and ADDITIONAL-ADDRESS-FAMILY (§18.11): the family in
 * 8 bits, 0x01 IPv4 or 0x02 IPv6 as in RFC 8489 §14.1, then 24 reserved bits. Another family gives
 * the raw number, for the server's 440.
 */
export function readAddressFamily(a: StunAttribute): Result<4 | 6 | number, StunParseError> {
  const e = sized(a, 'address family attribute', 4);
  if (e) return err(e);
  const f = a.value[0]!;
  return ok(f === FAMILY_IPV4 ? 4 : f === FAMILY_IPV6 ? 6 : f);
}

export function addressFamilyValue(family: 4 | 6): Uint8Array {
  return Uint8Array.of(family === 4 ? FAMILY_IPV4 : FAMILY_IPV6, 0, 0, 0);
}

const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/**
 * ADDRESS-ERROR-CODE (RFC 8656 §18.12): the family an address could not be allocated for, then an
 * error code and reason as in ERROR-CODE.
 * ```
 * |  Family       |    Reserved             |Class|     Number    |
 * |      Reason Phrase (variable)                                ..
 * ```
 */
export function readAddressErrorCode(a: StunAttribute): Result<{ family: 4 | 6 | number; code: number; reason: string }, StunParseError> {
  const v = a.value;
  if (v.length < 4 || v.length > 4 + MAX_REASON_BYTES) return fail(`ADDRESS-ERROR-CODE of ${v.length} bytes`, a.offset + 2);
  const cls = v[2]! & 0x07;
  const number = v[3]!;
  if (cls < 3 || cls > 6) return fail(`ADDRESS-ERROR-CODE class ${cls} is not between 3 and 6`, a.offset + 6);
  if (number > 99) return fail(`ADDRESS-ERROR-CODE number ${number} is not between 0 and 99`, a.offset + 7);
  const f = v[0]!;
  return ok({ family: f === FAMILY_IPV4 ? 4 : f === FAMILY_IPV6 ? 6 : f, code: cls * 100 + number, reason: decoder.decode(v.subarray(4)) });
}

export function addressErrorCodeValue(family: 4 | 6, code: number, reason: string): Uint8Array {
  if (!Number.isInteger(code) || code < 300 || code > 699) throw new TypeError(`STUN error code ${code} is not between 300 and 699`);
  let text = encoder.encode(reason);
  if (text.length > MAX_REASON_BYTES_SENT) {
    let cut = MAX_REASON_BYTES_SENT;
    while (cut > 0 && (text[cut]! & 0xc0) === 0x80) cut--;
    text = text.subarray(0, cut);
  }
  const out = new Uint8Array(4 + text.length);
  out[0] = family === 4 ? FAMILY_IPV4 : FAMILY_IPV6;
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  out.set(text, 4);
  return out;
}

/**
 * EVEN-PORT (RFC 8656 §18.6): one byte, its high bit R asking the server to reserve the next-higher
 * port as well (for a later allocation with the RESERVATION-TOKEN), 7 bits reserved.
 */
export function readEvenPort(a: StunAttribute): Result<{ reserveNext: boolean }, StunParseError> {
  const e = sized(a, 'EVEN-PORT', 1);
  return e ? err(e) : ok({ reserveNext: (a.value[0]! & 0x80) !== 0 });
}

export function evenPortValue(reserveNext: boolean): Uint8Array {
  return Uint8Array.of(reserveNext ? 0x80 : 0);
}

/** RESERVATION-TOKEN (RFC 8656 §18.9): 8 bytes naming a relayed address the server holds in reserve. A view. */
export function readReservationToken(a: StunAttribute): Result<Uint8Array, StunParseError> {
  const e = sized(a, 'RESERVATION-TOKEN', 8);
  return e ? err(e) : ok(a.value);
}

/** DONT-FRAGMENT (RFC 8656 §18.10): "This attribute has no value part, and thus, the attribute length field is 0." */
export function readDontFragment(a: StunAttribute): Result<true, StunParseError> {
  const e = sized(a, 'DONT-FRAGMENT', 0);
  return e ? err(e) : ok(true);
}

/**
 * ICMP (RFC 8656 §18.13): 16 bits reserved, the ICMP type and code (8 bits each), and 32 bits of
 * error data ("the MTU" for a fragmentation-needed message, else zero).
 */
export function readIcmp(a: StunAttribute): Result<{ type: number; code: number; data: number }, StunParseError> {
  const e = sized(a, 'ICMP', 8);
  if (e) return err(e);
  const v = a.value;
  return ok({ type: v[2]!, code: v[3]!, data: ((v[4]! << 24) | (v[5]! << 16) | (v[6]! << 8) | v[7]!) >>> 0 });
}

export function icmpValue(type: number, code: number, data: number): Uint8Array {
  return Uint8Array.of(0, 0, type, code, data >>> 24, (data >>> 16) & 0xff, (data >>> 8) & 0xff, data & 0xff);
}

/** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): a list of 16-bit attribute types. */
export function readUnknownAttributes(a: StunAttribute): Result<number[], StunParseError> {
  const v = a.value;
  if (v.length % 2 !== 0) return fail(`UNKNOWN-ATTRIBUTES of ${v.length} bytes is not a list of 16-bit types`, a.offset + 2);
  const types: number[] = [];
  for (let i = 0; i < v.length; i += 2) types.push((v[i]! << 8) | v[i + 1]!);
  return ok(types);
}

export function unknownAttributesValue(types: readonly number[]): Uint8Array {
  const out = new Uint8Array(types.length * 2);
  types.forEach((t, i) => {
    out[2 * i] = t >> 8;
    out[2 * i + 1] = t & 0xff;
  });
  return out;
}

/**
 * Limits of the text attributes, in bytes of UTF-8: USERNAME fewer than 509 bytes (RFC 8489 §14.3);
 * REALM, NONCE and SOFTWARE fewer than 128 characters, up to 763 bytes (§14.9, §14.10, §14.14);
 * ALTERNATE-DOMAIN a DNS name, at most 255 bytes (§14.16).
 */
export const TEXT_LIMITS: Readonly<Record<number, number>> = {
  0x0006: 508, // USERNAME
  0x0014: 763, // REALM
  0x0015: 763, // NONCE
  0x8022: 763, // SOFTWARE
  0x8003: 255, // ALTERNATE-DOMAIN
};

/** A text attribute (USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN) as a string, within its limit. Invalid UTF-8 is an error. */
export function readText(a: StunAttribute): Result<string, StunParseError> {
  const limit = TEXT_LIMITS[a.type] ?? 763;
  if (a.value.length > limit) return fail(`text attribute of ${a.value.length} bytes is longer than ${limit}`, a.offset + 2);
  try {
    return ok(strictDecoder.decode(a.value));
  } catch {
    return fail('text attribute is not UTF-8', a.offset + 4);
  }
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** USERHASH (RFC 8489 §14.4): 32 bytes. A view. */
export function readUserHash(a: StunAttribute): Result<Uint8Array, StunParseError> {
  const e = sized(a, 'USERHASH', 32);
  return e ? err(e) : ok(a.value);
}
