/**
 * A capture record down to its UDP datagram or TCP segment: link layer (link-layer.ts), IP
 * (ip-packet.ts, fragments reassembled by ip-reassembly.ts), then UDP or TCP
 * (transport-segment.ts). Never throws: a record that is not IP, UDP or TCP is `skipped` with the
 * reason, a damaged one `malformed` with the record's file offset and what was wrong, and a
 * fragment is `held` until its datagram is whole.
 */
import { formatIpv4, formatIpv6 } from '../lib/ip-address.js';
import type { CaptureRecord } from './capture-record.js';
import { IPPROTO_TCP, IPPROTO_UDP, parseIp, skipExtensionHeaders, type IpPacket } from './ip-packet.js';
import { IpReassembler, type ReassemblyOptions } from './ip-reassembly.js';
import { networkLayer } from './link-layer.js';
import { parseTcp, parseUdp, type TcpHeader } from './transport-segment.js';

export interface TransportSegment {
  readonly protocol: 'udp' | 'tcp';
  readonly ipVersion: 4 | 6;
  /** Addresses as text: dotted quad, RFC 5952 for IPv6. */
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** The UDP data or TCP segment data: a view of the record (valid as long as it is), or of the reassembled datagram. */
  readonly payload: Uint8Array;
  /** TCP's sequence numbers and flags; undefined for UDP. */
  readonly tcp: TcpHeader | undefined;
  /** 802.1Q/802.1ad VLAN identifiers, outermost first. */
  readonly vlanIds: readonly number[];
  /** The snapshot length cut the packet: the payload is shorter than sent. */
  readonly truncated: boolean;
  /** Reassembled from IP fragments (the record is the one that completed it). */
  readonly reassembled: boolean;
}

export type Decoded =
  | { readonly kind: 'segment'; readonly segment: TransportSegment }
  | { readonly kind: 'held' }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly offset: number; readonly message: string };

export class PacketDecoder {
  readonly reassembler: IpReassembler;

  constructor(options: ReassemblyOptions = {}) {
    this.reassembler = new IpReassembler(options);
  }

  decode(record: CaptureRecord): Decoded {
    const link = networkLayer(record.linkType, record.data);
    if (link.kind === 'other') return { kind: 'skipped', reason: link.reason };
    if (link.kind === 'malformed') return malformed(record, link.reason);
    const ip = parseIp(link.version, link.bytes);
    if (!ip.ok) return malformed(record, ip.reason);
    let packet: IpPacket = ip.packet;
    let protocol = packet.protocol;
    let payload = packet.payload;
    const src = packet.version === 4 ? formatIpv4(packet.src) : formatIpv6(packet.src);
    const dst = packet.version === 4 ? formatIpv4(packet.dst) : formatIpv6(packet.dst);
    let reassembled = false;
    if (packet.fragment !== undefined) {
      // A cut fragment cannot complete its datagram.
      if (packet.truncated) return { kind: 'skipped', reason: 'an IP fragment cut by the snapshot length' };
      const key = packet.version === 4 ? `4 ${src} ${dst} ${protocol} ${packet.fragment.id}` : `6 ${src} ${dst} ${packet.fragment.id}`;
      const whole = this.reassembler.add(key, record.seconds + record.nanoseconds / 1e9, protocol, packet.fragment, payload);
      if (whole === undefined) return { kind: 'held' };
      reassembled = true;
      protocol = whole.protocol;
      payload = whole.payload;
      if (packet.version === 6) {
        const upper = skipExtensionHeaders(protocol, payload);
        if (typeof upper === 'string') return malformed(record, upper);
        protocol = upper.protocol;
        payload = upper.payload;
      }
      packet = { ...packet, protocol, payload, fragment: undefined };
    }
    if (protocol !== IPPROTO_UDP && protocol !== IPPROTO_TCP) return { kind: 'skipped', reason: `IP protocol ${protocol}` };
    const t = protocol === IPPROTO_UDP ? parseUdp(payload, packet.truncated) : parseTcp(payload);
    if (!t.ok) return malformed(record, t.reason);
    return {
      kind: 'segment',
      segment: {
        protocol: protocol === IPPROTO_UDP ? 'udp' : 'tcp',
        ipVersion: packet.version,
        src,
        dst,
        srcPort: t.header.srcPort,
        dstPort: t.header.dstPort,
        payload: t.header.payload,
        tcp: t.header.tcp,
        vlanIds: link.vlanIds,
        truncated: packet.truncated,
        reassembled,
      },
    };
  }
}

function malformed(record: CaptureRecord, reason: string): Decoded {
  return { kind: 'malformed', offset: record.offset, message: `packet at offset ${record.offset}: ${reason}` };
}
