/**
 * FINGERPRINT (RFC 8489 §14.7): "The value of the attribute is computed as the CRC-32 of the STUN
 * message up to (but excluding) the FINGERPRINT attribute itself, XOR'ed with the 32-bit value
 * 0x5354554e." As for MESSAGE-INTEGRITY, the header's length covers the FINGERPRINT attribute.
 * The CRC-32 is ISO HDLC's (zlib's), computed in native code without copying the message.
 */
import { crc32 } from 'node:zlib';
import { StunAttr } from './attribute-types.js';
import { STUN_HEADER_SIZE, type StunMessage } from './message.js';

/** "the 32-bit value 0x5354554e (the XOR helps in cases where an application packet is also using CRC-32 in it)" */
export const FINGERPRINT_XOR = 0x5354554e;

/** The FINGERPRINT value of `bytes[0, attrOffset)` for a FINGERPRINT attribute at `attrOffset`. */
export function fingerprintValue(bytes: Uint8Array, attrOffset: number): number {
  const length = attrOffset + 8 - STUN_HEADER_SIZE;
  let crc = crc32(bytes.subarray(0, 2));
  crc = crc32(Uint8Array.of(length >> 8, length & 0xff), crc);
  crc = crc32(bytes.subarray(4, attrOffset), crc);
  return (crc ^ FINGERPRINT_XOR) >>> 0;
}

/** True when `m` ends with a FINGERPRINT attribute whose value is right. */
export function verifyFingerprint(m: StunMessage): boolean {
  const a = m.get(StunAttr.FINGERPRINT);
  if (a === undefined || a.value.length !== 4) return false;
  // §14.7: "When present, the FINGERPRINT attribute MUST be the last attribute in the message."
  if (a.offset + 8 !== m.bytes.length) return false;
  const v = a.value;
  const received = ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
  return received === fingerprintValue(m.bytes, a.offset);
}
