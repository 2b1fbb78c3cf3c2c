/**
 * A tiny classic-pcap writer for tests: the global header, then one record per datagram, each an
 * Ethernet II frame around an IPv4 or IPv6 header and a UDP header (checksums computed) around
 * the payload. Enough for tshark to dissect what a test encodes; no TCP, no fragments.
 *
 * Format: the libpcap file format (magic 0xa1b2c3d4 written little-endian, version 2.4,
 * LINKTYPE_ETHERNET = 1), IPv4 (RFC 791, header checksum), IPv6 (RFC 8200), UDP (RFC 768; over
 * IPv6 the checksum is mandatory, RFC 8200 §8.1).
 */
import { ipv4Bytes, ipv6Bytes } from '../../src/lib/ip-address.js';

export interface UdpDatagram {
  readonly source: string;
  readonly sourcePort: number;
  readonly destination: string;
  readonly destinationPort: number;
  readonly payload: Uint8Array;
  /** Seconds since the epoch, with microseconds as the fraction. */
  readonly time?: number;
}

const ETHERNET_HEADER = 14;

function sum16(bytes: Uint8Array, acc = 0): number {
  for (let i = 0; i < bytes.length; i += 2) acc += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  return acc;
}
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

function frame(d: UdpDatagram): Uint8Array {
  const v4 = ipv4Bytes(d.source) !== undefined;
  const src = v4 ? ipv4Bytes(d.source) : ipv6Bytes(d.source);
  const dst = v4 ? ipv4Bytes(d.destination) : ipv6Bytes(d.destination);
  if (src === undefined || dst === undefined || src.length !== dst.length) throw new Error(`pcap-writer: ${d.source} → ${d.destination}: not two addresses of one family`);
  const ipHeader = v4 ? 20 : 40;
  const udpLength = 8 + d.payload.length;
  const out = new Uint8Array(ETHERNET_HEADER + ipHeader + udpLength);
  const view = new DataView(out.buffer);
  // Ethernet: locally administered MACs, EtherType IPv4 or IPv6
  out.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  view.setUint16(12, v4 ? 0x0800 : 0x86dd);
  const ip = ETHERNET_HEADER;
  if (v4) {
    out[ip] = 0x45;
    view.setUint16(ip + 2, 20 + udpLength);
    out[ip + 6] = 0x40; // DF
    out[ip + 8] = 64;
    out[ip + 9] = 17;
    out.set(src, ip + 12);
    out.set(dst, ip + 16);
    view.setUint16(ip + 10, fold(sum16(out.subarray(ip, ip + 20))));
  } else {
    out[ip] = 0x60;
    view.setUint16(ip + 4, udpLength);
    out[ip + 6] = 17;
    out[ip + 7] = 64;
    out.set(src, ip + 8);
    out.set(dst, ip + 24);
  }
  const udp = ip + ipHeader;
  view.setUint16(udp, d.sourcePort);
  view.setUint16(udp + 2, d.destinationPort);
  view.setUint16(udp + 4, udpLength);
  out.set(d.payload, udp + 8);
  // pseudo-header: addresses, protocol 17, UDP length
  let acc = sum16(src) + sum16(dst) + 17 + udpLength;
  acc = sum16(out.subarray(udp, udp + udpLength), acc);
  view.setUint16(udp + 6, fold(acc) || 0xffff);
  return out;
}

/** The bytes of a pcap file holding the datagrams, in order. */
export function pcapOf(datagrams: readonly UdpDatagram[]): Uint8Array {
  const frames = datagrams.map(frame);
  const out = new Uint8Array(24 + frames.reduce((n, f) => n + 16 + f.length, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 262_144, true); // snaplen
  view.setUint32(20, 1, true); // LINKTYPE_ETHERNET
  let at = 24;
  frames.forEach((f, i) => {
    const time = datagrams[i]!.time ?? 1_700_000_000 + i;
    view.setUint32(at, Math.floor(time), true);
    view.setUint32(at + 4, Math.round((time % 1) * 1e6) % 1_000_000, true);
    view.setUint32(at + 8, f.length, true);
    view.setUint32(at + 12, f.length, true);
    out.set(f, at + 16);
    at += 16 + f.length;
  });
  return out;
}
