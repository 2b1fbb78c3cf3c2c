/**
 * decodeHep: one HEPv3 packet (a UDP datagram, or one packet the stream framer cut from TCP) to
 * a HepPacket. Never throws; an error names the reason and the byte offset.
 *
 * Choices where the specification is silent (README.md, "Choices"):
 * - the total length must equal the bytes given (a datagram holds one packet; the framer cuts
 *   streams by it), as Homer's collector requires;
 * - a typed chunk of the wrong size (an IPv4 address of 5 bytes) is an error, as in Homer's collector;
 * - a typed generic chunk twice is an error ("duplicate chunk"): which one to believe is a guess;
 * - text chunks (auth key, correlation ID, node name) are read as UTF-8, invalid sequences replaced.
 */
import { err, ok, type Result } from '../lib/result.js';
import { formatIpv4, formatIpv6 } from '../lib/ip-address.js';
import { chunkTypeName, HEP_GENERIC_VENDOR, HepChunkType as T } from './chunk-types.js';
import { HEP_CHUNK_HEADER_SIZE, HEP_HEADER_SIZE, type HepDecodeError, type HepPacket, type HepRawChunk } from './packet.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The value size of each fixed-size generic chunk. */
const FIXED_SIZE: ReadonlyMap<number, number> = new Map([
  [T.IP_FAMILY, 1], [T.IP_PROTOCOL, 1], [T.IPV4_SOURCE, 4], [T.IPV4_DESTINATION, 4], [T.IPV6_SOURCE, 16],
  [T.IPV6_DESTINATION, 16], [T.SOURCE_PORT, 2], [T.DESTINATION_PORT, 2], [T.TIME_SECONDS, 4], [T.TIME_MICROSECONDS, 4],
  [T.PROTOCOL_TYPE, 1], [T.CAPTURE_AGENT_ID, 4], [T.KEEP_ALIVE_TIMER, 2], [T.VLAN_ID, 2],
]);
const TYPED = new Set<number>(Object.values(T));

/** True when bytes begin with "HEP3" (a HEPv3 packet, not HEPv1/v2, not SIP). */
export function isHep3(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x48 && bytes[1] === 0x45 && bytes[2] === 0x50 && bytes[3] === 0x33;
}

/** The total length field of a packet that starts at bytes[at] (6 bytes needed). */
export function hepTotalLength(bytes: Uint8Array, at = 0): number {
  return (bytes[at + 4]! << 8) | bytes[at + 5]!;
}

export function decodeHep(bytes: Uint8Array): Result<HepPacket, HepDecodeError> {
  if (bytes.length < HEP_HEADER_SIZE) return err({ reason: `${bytes.length} bytes: shorter than the 6-byte HEP header`, offset: bytes.length });
  if (!isHep3(bytes)) {
    const why = bytes[0] === 1 || bytes[0] === 2 ? ` (HEPv${bytes[0]} is not decoded)` : '';
    return err({ reason: `no "HEP3" magic${why}`, offset: 0 });
  }
  const total = hepTotalLength(bytes);
  if (total < HEP_HEADER_SIZE) return err({ reason: `total length ${total} is less than the 6-byte header`, offset: 4 });
  if (total !== bytes.length) return err({ reason: `total length ${total} but ${bytes.length} bytes`, offset: 4 });

  const p: { -readonly [K in keyof HepPacket]: HepPacket[K] } = {};
  const other: HepRawChunk[] = [];
  const vendor: HepRawChunk[] = [];
  const seen = new Set<number>();
  let at = HEP_HEADER_SIZE;
  while (at < total) {
    if (total - at < HEP_CHUNK_HEADER_SIZE) return err({ reason: `truncated chunk header: ${total - at} bytes left, 6 needed`, offset: at });
    const vendorId = (bytes[at]! << 8) | bytes[at + 1]!;
    const type = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const length = (bytes[at + 4]! << 8) | bytes[at + 5]!;
    if (length < HEP_CHUNK_HEADER_SIZE) return err({ reason: `chunk length ${length} is less than its 6-byte header`, offset: at + 4 });
    if (length > total - at) return err({ reason: `chunk ${chunkTypeName(type)} of ${length} bytes runs past the packet's end (${total - at} bytes left)`, offset: at + 4 });
    const value = bytes.subarray(at + HEP_CHUNK_HEADER_SIZE, at + length);
    if (vendorId !== HEP_GENERIC_VENDOR) {
      vendor.push({ vendorId, type, value });
    } else if (!TYPED.has(type)) {
      other.push({ vendorId, type, value });
    } else {
      const size = FIXED_SIZE.get(type);
      if (size !== undefined && value.length !== size) return err({ reason: `chunk ${chunkTypeName(type)} has ${value.length} value bytes, ${size} expected`, offset: at + 4 });
      if (seen.has(type)) return err({ reason: `duplicate chunk ${chunkTypeName(type)}`, offset: at });
      seen.add(type);
      readTyped(p, type, value);
    }
    at += length;
  }
  if (other.length > 0) p.otherChunks = other;
  if (vendor.length > 0) p.vendorChunks = vendor;
  return ok(p);
}

function readTyped(p: { -readonly [K in keyof HepPacket]: HepPacket[K] }, type: number, v: Uint8Array): void {
  const u16 = (): number => (v[0]! << 8) | v[1]!;
  const u32 = (): number => ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
  switch (type) {
    case T.IP_FAMILY: p.ipFamily = v[0]!; break;
    case T.IP_PROTOCOL: p.ipProtocol = v[0]!; break;
    case T.IPV4_SOURCE: p.sourceIpv4 = formatIpv4(v); break;
    case T.IPV4_DESTINATION: p.destinationIpv4 = formatIpv4(v); break;
    case T.IPV6_SOURCE: p.sourceIpv6 = formatIpv6(v); break;
    case T.IPV6_DESTINATION: p.destinationIpv6 = formatIpv6(v); break;
    case T.SOURCE_PORT: p.sourcePort = u16(); break;
    case T.DESTINATION_PORT: p.destinationPort = u16(); break;
    case T.TIME_SECONDS: p.timeSeconds = u32(); break;
    case T.TIME_MICROSECONDS: p.timeMicroseconds = u32(); break;
    case T.PROTOCOL_TYPE: p.protocolType = v[0]!; break;
    case T.CAPTURE_AGENT_ID: p.captureAgentId = u32(); break;
    case T.KEEP_ALIVE_TIMER: p.keepAliveTimer = u16(); break;
    case T.AUTH_KEY: p.authKey = utf8.decode(v); break;
    case T.PAYLOAD: p.payload = v; break;
    case T.COMPRESSED_PAYLOAD: p.compressedPayload = v; break;
    case T.CORRELATION_ID: p.correlationId = utf8.decode(v); break;
    case T.VLAN_ID: p.vlanId = u16(); break;
    case T.NODE_NAME: p.nodeName = utf8.decode(v); break;
  }
}
