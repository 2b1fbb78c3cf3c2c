/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) headers: the addresses, the upper-layer protocol, its bytes,
 * and what a fragment needs for reassembly. IPv6 extension headers are walked over.
 */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export interface IpFragment {
  /** Identification (16 bits in IPv4, 32 in IPv6's Fragment header). */
  readonly id: number;
  /** Where this fragment's data starts in the datagram's payload, in bytes. */
  readonly offset: number;
  /** More fragments follow. */
  readonly more: boolean;
}

export interface IpPacket {
  readonly version: 4 | 6;
  /** The addresses as the header holds them (views). */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** The upper-layer protocol (after IPv6 extension headers): 6 TCP, 17 UDP … */
  readonly protocol: number;
  /** The upper-layer bytes (of this fragment, if it is one), without link-layer padding. */
  readonly payload: Uint8Array;
  /** The snapshot length cut the packet: `payload` is shorter than the header says. */
  readonly truncated: boolean;
  readonly fragment: IpFragment | undefined;
}

export type IpParse = { readonly ok: true; readonly packet: IpPacket } | { readonly ok: false; readonly reason: string };

export function parseIp(version: 4 | 6, bytes: Uint8Array): IpParse {
  return version === 4 ? parseIpv4(bytes) : parseIpv6(bytes);
}

function bad(reason: string): IpParse {
  return { ok: false, reason };
}

export function parseIpv4(b: Uint8Array): IpParse {
  if (b.length < 20) return bad(`IPv4 header: 20 bytes expected, ${b.length} captured`);
  if (b[0]! >> 4 !== 4) return bad(`IPv4 header: version ${b[0]! >> 4}`);
  // RFC 791 §3.1: "Internet Header Length is the length of the internet header in 32 bit words
  // ... the minimum value for a correct header is 5."
  const headerLength = (b[0]! & 0x0f) * 4;
  const totalLength = (b[2]! << 8) | b[3]!;
  if (headerLength < 20) return bad(`IPv4 header: header length ${headerLength}, expected at least 20`);
  if (totalLength < headerLength) return bad(`IPv4 header: total length ${totalLength} is less than the header length ${headerLength}`);
  if (b.length < headerLength) return bad(`IPv4 header: ${headerLength} bytes expected, ${b.length} captured`);
  // Bytes past the total length are link-layer padding (Ethernet's 60-byte minimum).
  const end = Math.min(totalLength, b.length);
  const flagsOffset = (b[6]! << 8) | b[7]!;
  // RFC 791 §3.1: flags "Bit 2: (MF) 0 = Last Fragment, 1 = More Fragments"; "Fragment Offset: 13
  // bits ... measured in units of 8 octets".
  const more = (flagsOffset & 0x2000) !== 0;
  const offset = (flagsOffset & 0x1fff) * 8;
  return {
    ok: true,
    packet: {
      version: 4,
      src: b.subarray(12, 16),
      dst: b.subarray(16, 20),
      protocol: b[9]!,
      payload: b.subarray(headerLength, end),
      truncated: end < totalLength,
      fragment: more || offset > 0 ? { id: (b[4]! << 8) | b[5]!, offset, more } : undefined,
    },
  };
}

/** RFC 8200 §4: extension headers whose length is (Hdr Ext Len + 1) × 8 bytes. */
const EXTENSION_HEADERS: ReadonlySet<number> = new Set([
  0, // Hop-by-Hop Options
  43, // Routing
  60, // Destination Options
  135, // Mobility (RFC 6275)
  139, // HIP (RFC 7401)
  140, // Shim6 (RFC 5533)
]);
const FRAGMENT_HEADER = 44;
const AUTHENTICATION_HEADER = 51;
/** The most extension headers walked before giving up (a packet could chain many empty ones). */
const MAX_EXTENSION_HEADERS = 16;

export function parseIpv6(b: Uint8Array): IpParse {
  if (b.length < 40) return bad(`IPv6 header: 40 bytes expected, ${b.length} captured`);
  if (b[0]! >> 4 !== 6) return bad(`IPv6 header: version ${b[0]! >> 4}`);
  const payloadLength = (b[4]! << 8) | b[5]!;
  // A Payload Length of 0 is a jumbogram (RFC 2675): the rest of the capture is the payload.
  const declaredEnd = payloadLength === 0 ? b.length : 40 + payloadLength;
  const end = Math.min(declaredEnd, b.length);
  const walked = walkExtensionHeaders(b, b[6]!, 40, end);
  if (typeof walked === 'string') return bad(walked);
  return {
    ok: true,
    packet: {
      version: 6,
      src: b.subarray(8, 24),
      dst: b.subarray(24, 40),
      protocol: walked.next,
      payload: b.subarray(walked.at, end),
      truncated: end < declaredEnd,
      fragment: walked.fragment,
    },
  };
}

/** The upper-layer protocol and its bytes, after the extension headers at the start of `b`. */
export function skipExtensionHeaders(next: number, b: Uint8Array): { readonly protocol: number; readonly payload: Uint8Array } | string {
  const walked = walkExtensionHeaders(b, next, 0, b.length);
  if (typeof walked === 'string') return walked;
  if (walked.fragment !== undefined) return 'IPv6: a fragment header inside a reassembled datagram';
  return { protocol: walked.next, payload: b.subarray(walked.at) };
}

/**
 * Walks extension headers from b[at] (whose type is `next`) up to the upper layer, or up to a
 * Fragment header: what follows it is the fragmentable part (RFC 8200 §4.5), reassembled before it
 * is read further. Returns the reason when a header does not fit.
 */
function walkExtensionHeaders(b: Uint8Array, next: number, at: number, end: number): { next: number; at: number; fragment: IpFragment | undefined } | string {
  for (let n = 0; n <= MAX_EXTENSION_HEADERS; n++) {
    if (EXTENSION_HEADERS.has(next) || next === AUTHENTICATION_HEADER) {
      if (end - at < 2) return `IPv6 extension header ${next} at byte ${at}: 2 bytes expected, ${end - at} left`;
      // RFC 4302 §2.2: AH's Payload Len is "in 32-bit words ... minus 2".
      const size = next === AUTHENTICATION_HEADER ? (b[at + 1]! + 2) * 4 : (b[at + 1]! + 1) * 8;
      if (end - at < size) return `IPv6 extension header ${next} at byte ${at}: ${size} bytes expected, ${end - at} left`;
      next = b[at]!;
      at += size;
    } else if (next === FRAGMENT_HEADER) {
      // RFC 8200 §4.5: Next Header, Reserved, Fragment Offset (13 bits, 8-octet units), Res, M,
      // Identification (32 bits).
      if (end - at < 8) return `IPv6 fragment header at byte ${at}: 8 bytes expected, ${end - at} left`;
      const offsetFlags = (b[at + 2]! << 8) | b[at + 3]!;
      const id = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
      const offset = offsetFlags & 0xfff8;
      const more = (offsetFlags & 1) !== 0;
      next = b[at]!;
      at += 8;
      // An atomic fragment (offset 0, no more: RFC 6946) is a whole datagram: walk on.
      if (offset > 0 || more) return { next, at, fragment: { id, offset, more } };
    } else {
      return { next, at, fragment: undefined };
    }
  }
  return `IPv6: more than ${MAX_EXTENSION_HEADERS} extension headers`;
}
