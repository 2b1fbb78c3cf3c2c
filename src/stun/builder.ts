/**
 * Builds one STUN message (RFC 8489 §5, §14) into a single buffer: attributes are written in the
 * order added, each padded to a multiple of 4 bytes with zeros; MESSAGE-INTEGRITY,
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are computed over what was added before them, so they
 * are added last, in that order.
 *
 * Wrong arguments (a transaction ID not of 12 bytes, an address that is not of its family, a
 * value over 65535 bytes) are mistakes of the caller and throw TypeError.
 */
import { StunAttr } from './attribute-types.js';
import { FAMILY_IPV4, FAMILY_IPV6, type TransportAddress } from './address.js';
import { MAX_REASON_BYTES_SENT } from './error-code.js';
import { fingerprintValue } from './fingerprint.js';
import { integrityHmac, MESSAGE_INTEGRITY_SHA256_SIZE, MESSAGE_INTEGRITY_SIZE } from './integrity.js';
import { ipv4Bytes, ipv6Bytes } from '../lib/ip-address.js';
import { MAGIC_COOKIE, messageType, STUN_HEADER_SIZE, type StunClass } from './message.js';

const encoder = new TextEncoder();

export class StunMessageBuilder {
  private buf: Uint8Array;
  private length = STUN_HEADER_SIZE;

  /** `capacity`: the bytes to reserve at first (the buffer grows as needed). */
  constructor(method: number, cls: StunClass, transactionId: Uint8Array, capacity = 128) {
    if (transactionId.length !== 12) throw new TypeError(`a STUN transaction ID has 12 bytes, not ${transactionId.length}`);
    if (!Number.isInteger(method) || method < 0 || method > 0xfff) throw new TypeError(`STUN method ${method} is not a 12-bit number`);
    this.buf = new Uint8Array(Math.max(capacity, STUN_HEADER_SIZE));
    const type = messageType(method, cls);
    const b = this.buf;
    b[0] = type >> 8;
    b[1] = type & 0xff;
    b[4] = MAGIC_COOKIE >>> 24;
    b[5] = (MAGIC_COOKIE >>> 16) & 0xff;
    b[6] = (MAGIC_COOKIE >>> 8) & 0xff;
    b[7] = MAGIC_COOKIE & 0xff;
    b.set(transactionId, 8);
  }

  private reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  /** Writes an attribute header for `valueLength` bytes and returns the offset of its value. */
  private header(type: number, valueLength: number): number {
    if (valueLength > 0xffff) throw new TypeError(`a STUN attribute value has at most 65535 bytes, not ${valueLength}`);
    const padded = (valueLength + 3) & ~3;
    this.reserve(4 + padded);
    const b = this.buf;
    const at = this.length;
    b[at] = type >> 8;
    b[at + 1] = type & 0xff;
    b[at + 2] = valueLength >> 8;
    b[at + 3] = valueLength & 0xff;
    b.fill(0, at + 4 + valueLength, at + 4 + padded); // the padding; a grown buffer may hold old bytes
    this.length = at + 4 + padded;
    if (this.length - STUN_HEADER_SIZE > 0xffff) throw new TypeError('a STUN message has at most 65535 bytes after its header');
    return at + 4;
  }

  /** An attribute with `value` as it is (padded to 4). */
  add(type: number, value: Uint8Array): this {
    const at = this.header(type, value.length);
    this.buf.set(value, at);
    return this;
  }

  /** An attribute holding `s` in UTF-8 (USERNAME, REALM, NONCE, SOFTWARE, ...). */
  addString(type: number, s: string): this {
    const bytes = encoder.encode(s);
    return this.add(type, bytes);
  }

  /** A 32-bit attribute in network order (LIFETIME, ...). */
  addUint32(type: number, n: number): this {
    const at = this.header(type, 4);
    const b = this.buf;
    b[at] = n >>> 24;
    b[at + 1] = (n >>> 16) & 0xff;
    b[at + 2] = (n >>> 8) & 0xff;
    b[at + 3] = n & 0xff;
    return this;
  }

  private writeAddress(type: number, a: TransportAddress): number {
    const at = this.header(type, a.family === 4 ? 8 : 20);
    const b = this.buf;
    b[at] = 0;
    b[at + 1] = a.family === 4 ? FAMILY_IPV4 : FAMILY_IPV6;
    b[at + 2] = a.port >> 8;
    b[at + 3] = a.port & 0xff;
    const bytes = a.family === 4 ? ipv4Bytes(a.address, b, at + 4) : ipv6Bytes(a.address, b, at + 4);
    if (bytes === undefined) throw new TypeError(`"${a.address}" is not an IPv${a.family} address`);
    return at;
  }

  /** MAPPED-ADDRESS or ALTERNATE-SERVER (RFC 8489 §14.1, §14.15). */
  addAddress(type: number, a: TransportAddress): this {
    this.writeAddress(type, a);
    return this;
  }

  /** XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (RFC 8489 §14.2). */
  addXorAddress(type: number, a: TransportAddress): this {
    const at = this.writeAddress(type, a);
    const b = this.buf;
    b[at + 2]! ^= 0x21;
    b[at + 3]! ^= 0x12;
    // the cookie, then (IPv6) the transaction ID at bytes 8-19 of the header
    const n = a.family === 4 ? 4 : 16;
    for (let i = 0; i < n; i++) b[at + 4 + i]! ^= b[4 + i]!;
    return this;
  }

  /** ERROR-CODE (RFC 8489 §14.8): `code` between 300 and 699, `reason` at most 509 bytes of UTF-8 (cut there). */
  addErrorCode(code: number, reason: string): this {
    if (!Number.isInteger(code) || code < 300 || code > 699) throw new TypeError(`STUN error code ${code} is not between 300 and 699`);
    let text = encoder.encode(reason);
    if (text.length > MAX_REASON_BYTES_SENT) {
      let cut = MAX_REASON_BYTES_SENT;
      while (cut > 0 && (text[cut]! & 0xc0) === 0x80) cut--; // not inside a UTF-8 sequence
      text = text.subarray(0, cut);
    }
    const at = this.header(StunAttr.ERROR_CODE, 4 + text.length);
    const b = this.buf;
    b[at] = 0;
    b[at + 1] = 0;
    b[at + 2] = Math.floor(code / 100);
    b[at + 3] = code % 100;
    b.set(text, at + 4);
    return this;
  }

  private writeLength(): void {
    const n = this.length - STUN_HEADER_SIZE;
    this.buf[2] = n >> 8;
    this.buf[3] = n & 0xff;
  }

  /** MESSAGE-INTEGRITY (HMAC-SHA1 under `key`) of everything added so far (RFC 8489 §14.5). */
  addMessageIntegrity(key: Uint8Array): this {
    const offset = this.length;
    const mac = integrityHmac('sha1', key, this.buf, offset, MESSAGE_INTEGRITY_SIZE);
    return this.add(StunAttr.MESSAGE_INTEGRITY, mac);
  }

  /** MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256 under `key`, all 32 bytes) of everything added so far (RFC 8489 §14.6). */
  addMessageIntegritySha256(key: Uint8Array): this {
    const offset = this.length;
    const mac = integrityHmac('sha256', key, this.buf, offset, MESSAGE_INTEGRITY_SHA256_SIZE);
    return this.add(StunAttr.MESSAGE_INTEGRITY_SHA256, mac);
  }

  /** FINGERPRINT (RFC 8489 §14.7): the last attribute. */
  addFingerprint(): this {
    const offset = this.length;
    const crc = fingerprintValue(this.buf, offset);
    return this.addUint32(StunAttr.FINGERPRINT, crc);
  }

  /** The message: a view of the builder's buffer (build once, then let the builder go). */
  build(): Uint8Array {
    this.writeLength();
    return this.buf.subarray(0, this.length);
  }
}
