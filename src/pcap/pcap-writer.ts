/**
 * Writing classic pcap files (draft-ietf-opsawg-pcap): the file header, records, and raw IP
 * frames (LINKTYPE_RAW, 101) carrying UDP or TCP, with correct lengths and checksums, so that
 * tshark and Wireshark dissect what `parley hep export --pcap`, `parley pcap decrypt` and
 * `parley pcap split` write. Pure functions over bytes: the caller writes them to a file.
 *
 * Times are nanoseconds (magic 0xa1b23c4d), little-endian, whatever the machine.
 */
import { ipv4Bytes, ipv6Bytes } from '../lib/ip-address.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './ip-packet.js';
import { LinkType } from './link-layer.js';
import { TCP_ACK } from './transport-segment.js';

/** The nanosecond-resolution magic number, as written in little-endian order. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** Wireshark's largest snapshot length: every record we write fits. */
export const PCAP_WRITER_SNAPLEN = 262_144;

/** The 24-byte file header: version 2.4, nanosecond times, the link type of every record. */
export function pcapFileHeader(linkType: number = LinkType.RAW, snapLength = PCAP_WRITER_SNAPLEN): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, PCAP_MAGIC_NANOSECONDS, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  // thiszone and sigfigs: 0
  v.setUint32(16, snapLength, true);
  v.setUint32(20, linkType, true);
  return b;
}

/**
 * One record: its 16-byte header and the frame. `timeNs` is nanoseconds since 1970 (UTC);
 * `originalLength` the length on the wire when the frame was cut (default: the frame's).
 */
export function pcapRecord(timeNs: bigint, frame: Uint8Array, originalLength = frame.length): Uint8Array {
  const b = new Uint8Array(16 + frame.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, Number(timeNs / 1_000_000_000n), true);
  v.setUint32(4, Number(timeNs % 1_000_000_000n), true);
  v.setUint32(8, frame.length, true);
  v.setUint32(12, originalLength, true);
  b.set(frame, 16);
  return b;
}

export interface FrameEndpoints {
  /** IPv4 dotted quad or IPv6 text; both ends of one family. */
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
}

export interface TcpFields {
  readonly seq: number;
  readonly ack?: number;
  /** TCP flag bits (TCP_SYN, TCP_ACK, …); default ACK|PSH when there is data. */
  readonly flags?: number;
  readonly window?: number;
}

/** A raw IP frame (for LINKTYPE_RAW) with one UDP datagram. Undefined if an address is not an IP address or the families differ. */
export function udpFrame(ends: FrameEndpoints, payload: Uint8Array): Uint8Array | undefined {
  const l4 = new Uint8Array(8 + payload.length);
  const v = new DataView(l4.buffer);
  v.setUint16(0, ends.srcPort);
  v.setUint16(2, ends.dstPort);
  v.setUint16(4, l4.length);
  l4.set(payload, 8);
  return ipFrame(ends, IPPROTO_UDP, l4, 6);
}

const TCP_PSH = 0x08;

/** A raw IP frame with one TCP segment (20-byte header, no options). */
export function tcpFrame(ends: FrameEndpoints, fields: TcpFields, payload: Uint8Array): Uint8Array | undefined {
  const l4 = new Uint8Array(20 + payload.length);
  const v = new DataView(l4.buffer);
  v.setUint16(0, ends.srcPort);
  v.setUint16(2, ends.dstPort);
  v.setUint32(4, fields.seq >>> 0);
  v.setUint32(8, (fields.ack ?? 0) >>> 0);
  const flags = fields.flags ?? (payload.length > 0 ? TCP_ACK | TCP_PSH : TCP_ACK);
  v.setUint16(12, (5 << 12) | (flags & 0x1ff));
  v.setUint16(14, fields.window ?? 65535);
  l4.set(payload, 20);
  return ipFrame(ends, IPPROTO_TCP, l4, 16);
}

/** The IP header before `l4`, and the transport checksum (at `checksumAt` in l4) over the pseudo-header. */
function ipFrame(ends: FrameEndpoints, protocol: number, l4: Uint8Array, checksumAt: number): Uint8Array | undefined {
  const s4 = ipv4Bytes(ends.src);
  const d4 = ipv4Bytes(ends.dst);
  if (s4 && d4) {
    if (l4.length > 65535 - 20) return undefined;
    const f = new Uint8Array(20 + l4.length);
    const v = new DataView(f.buffer);
    f[0] = 0x45;
    v.setUint16(2, f.length);
    f[6] = 0x40; // don't fragment
    f[8] = 64;
    f[9] = protocol;
    f.set(s4, 12);
    f.set(d4, 16);
    v.setUint16(10, finish(sum(f, 0, 20, 0)));
    const pseudo = sum(s4, 0, 4, sum(d4, 0, 4, protocol + l4.length));
    setChecksum(l4, checksumAt, protocol, sum(l4, 0, l4.length, pseudo));
    f.set(l4, 20);
    return f;
  }
  const s6 = s4 ? undefined : ipv6Bytes(ends.src);
  const d6 = d4 ? undefined : ipv6Bytes(ends.dst);
  if (!s6 || !d6 || l4.length > 65535) return undefined;
  const f = new Uint8Array(40 + l4.length);
  const v = new DataView(f.buffer);
  f[0] = 0x60;
  v.setUint16(4, l4.length);
  f[6] = protocol;
  f[7] = 64;
  f.set(s6, 8);
  f.set(d6, 24);
  const pseudo = sum(s6, 0, 16, sum(d6, 0, 16, protocol + l4.length));
  setChecksum(l4, checksumAt, protocol, sum(l4, 0, l4.length, pseudo));
  f.set(l4, 40);
  return f;
}

// RFC 768: a UDP checksum computed as 0 is sent as all ones (0 means "no checksum")
function setChecksum(l4: Uint8Array, at: number, protocol: number, total: number): void {
  let c = finish(total);
  if (c === 0 && protocol === IPPROTO_UDP) c = 0xffff;
  l4[at] = c >>> 8;
  l4[at + 1] = c & 0xff;
}

/** The ones' complement sum (RFC 1071) of b[from, to), added to `acc`, not yet folded. */
function sum(b: Uint8Array, from: number, to: number, acc: number): number {
  let s = acc;
  let i = from;
  for (; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < to) s += b[i]! << 8;
  return s;
}

function finish(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return ~x & 0xffff;
}
