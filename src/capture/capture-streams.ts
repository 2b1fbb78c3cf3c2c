/**
 * RTP streams straight from a capture's records, as `tshark -q -z rtp,streams` finds them: a UDP
 * datagram is looked at as RTP only when one of its ends is a media endpoint that signalling
 * announced (the address and port of an SDP `c=`/`m=` pair, RFC 4566 §5.7 and §5.14, registered
 * with `addMediaEndpoint` as the caller reads the SIP of the capture), or, with `anyUdp`, always
 * (tshark's `--enable-heuristic rtp_udp`). The figures are rtp-stream-stats.ts's, so they equal
 * tshark's; the streams carry the Call-ID of the call whose SDP announced them.
 *
 * Built for multi-gigabyte files: records are read in place (no view or object per packet on the
 * common path: IPv4 without fragments, over raw IP, Ethernet or Linux cooked v1/v2), a media flow
 * is found with two number-keyed lookups, one RTP header object is reused, and UDP that is
 * neither media nor possibly SIP is dropped after the endpoint lookup. Everything else (IPv6,
 * VLAN tags, fragments, TCP, other link types) goes through src/pcap's PacketDecoder. Memory
 * grows with the number of streams and endpoints, never with packets.
 */
import { formatIpv6, ipv4Bytes, ipv6Bytes } from '../lib/ip-address.js';
import type { CaptureRecord } from '../pcap/capture-record.js';
import { LinkType } from '../pcap/link-layer.js';
import { PacketDecoder, type TransportSegment } from '../pcap/packet-decoder.js';
import { type PayloadFormat, STATIC_PAYLOAD_FORMATS, unknownPayloadName } from './payload-formats.js';
import { type MutableRtpHeader, readRtpHeaderAt } from './rtp-packet.js';
import { RtpStreamStats } from './rtp-stream-stats.js';
import type { RtpStreamReport } from './rtp-streams.js';

/** What signalling said about a media endpoint (one SDP media description's address and port). */
export interface MediaEndpointInfo {
  /** The Call-ID of the call whose SDP announced it. */
  readonly callId: string;
  /** Payload type → format from the SDP's `a=rtpmap` lines; RFC 3551's static types need none. */
  readonly formats?: ReadonlyMap<number, PayloadFormat>;
}

export interface CaptureStreamReport extends RtpStreamReport {
  /** The call the stream belongs to (undefined: found without signalling, `anyUdp`). */
  readonly callId: string | undefined;
}

export interface CaptureStreamsOptions {
  /** Every UDP datagram that reads as RTP counts, signalled or not (tshark's `--enable-heuristic rtp_udp`). */
  readonly anyUdp?: boolean;
  /**
   * The segments that are not media: TCP, and UDP whose first octet could start a SIP message (a
   * letter). For the caller's SIP reading, which registers the media endpoints it finds. The
   * segment's payload is valid only during the call.
   */
  readonly onSegment?: (segment: TransportSegment, record: CaptureRecord) => void;
}

export interface CaptureStreamsCounts {
  records: number;
  /** Datagrams read as RTP, and the others on media flows (RTCP, STUN, DTLS, …). */
  rtp: number;
  notRtpOnMedia: number;
  /** UDP datagrams to and from no media endpoint. */
  otherUdp: number;
  /** Records that are not IP/UDP/TCP (ARP, other link types), and damaged ones. */
  skipped: number;
  malformed: number;
}

/** A media endpoint as registered: mutable, so that a later call announcing the same one takes it over. */
interface Endpoint {
  callId: string;
  formats: ReadonlyMap<number, PayloadFormat> | undefined;
}

/** One direction between two endpoints on which RTP was seen, and its streams by SSRC. */
interface Flow {
  readonly srcKey: EndpointKey;
  readonly dstKey: EndpointKey;
  readonly endpoint: Endpoint | undefined;
  readonly bySsrc: Map<number, Stream>;
  last: Stream | undefined;
}

interface Stream {
  readonly flow: Flow;
  readonly ssrc: number;
  readonly callId: string | undefined;
  readonly stats: RtpStreamStats;
  /** The format of each payload type seen (null: unknown). */
  readonly formats: Map<number, PayloadFormat | null>;
  lastPayloadType: number;
  lastFormat: PayloadFormat | undefined;
  readonly firstSeconds: number;
  readonly firstNanoseconds: number;
  lastSeconds: number;
  lastNanoseconds: number;
}

/** IPv4: address × 65536 + port (exact below 2^48); IPv6: "address|port" (RFC 5952 text). */
type EndpointKey = number | string;

export class CaptureStreams {
  readonly counts: CaptureStreamsCounts = { records: 0, rtp: 0, notRtpOnMedia: 0, otherUdp: 0, skipped: 0, malformed: 0 };
  /** The first damaged packet's message ("packet at offset 1234: …"), if any. */
  firstMalformed: string | undefined;
  private readonly decoder = new PacketDecoder();
  private readonly endpoints = new Map<EndpointKey, Endpoint>();
  private readonly flows = new Map<EndpointKey, Map<EndpointKey, Flow>>();
  private readonly streams: Stream[] = [];
  private readonly header: MutableRtpHeader = { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payloadBytes: 0 };
  private readonly anyUdp: boolean;
  private readonly onSegment: CaptureStreamsOptions['onSegment'];
  private originSeconds = -1;
  private originNanoseconds = 0;

  constructor(options: CaptureStreamsOptions = {}) {
    this.anyUdp = options.anyUdp ?? false;
    this.onSegment = options.onSegment;
  }

  /**
   * RTP to or from `address`:`port` belongs to the call: what an SDP offer or answer announces
   * (RFC 3264 §5: the media is received on the address and port of the description). An address
   * that is not an IP literal (an FQDN in `c=`) is ignored. Later datagrams only: a flow already
   * seen keeps what it had.
   */
  addMediaEndpoint(address: string, port: number, info: MediaEndpointInfo): void {
    const key = endpointKeyOfText(address, port);
    if (key === undefined) return;
    const known = this.endpoints.get(key);
    if (known !== undefined) {
      known.callId = info.callId;
      known.formats = info.formats;
    } else this.endpoints.set(key, { callId: info.callId, formats: info.formats });
  }

  /** One record of the capture, in file order. */
  add(record: CaptureRecord): void {
    this.counts.records++;
    if (this.originSeconds < 0) {
      this.originSeconds = record.seconds;
      this.originNanoseconds = record.nanoseconds;
    }
    const d = record.data;
    let at = -1;
    switch (record.linkType) {
      case LinkType.RAW:
      case LinkType.RAW_12:
      case LinkType.RAW_14:
      case LinkType.IPV4:
        at = 0;
        break;
      case LinkType.ETHERNET:
        if (d.length >= 14 && d[12] === 0x08 && d[13] === 0x00) at = 14;
        break;
      case LinkType.LINUX_SLL:
        if (d.length >= 16 && d[14] === 0x08 && d[15] === 0x00) at = 16;
        break;
      case LinkType.LINUX_SLL2:
        if (d.length >= 20 && d[0] === 0x08 && d[1] === 0x00) at = 20;
        break;
    }
    if (at >= 0 && this.ipv4Udp(record, d, at)) return;
    this.decoded(record);
  }

  /** The streams, in the order their first packet came. */
  reports(): CaptureStreamReport[] {
    return this.streams.map((s) => {
      const payloadTypes = [...s.formats.keys()].sort((a, b) => a - b);
      const first = BigInt(s.firstSeconds) * 1_000_000_000n + BigInt(s.firstNanoseconds);
      const last = BigInt(s.lastSeconds) * 1_000_000_000n + BigInt(s.lastNanoseconds);
      const origin = BigInt(Math.max(0, this.originSeconds)) * 1_000_000_000n + BigInt(this.originNanoseconds);
      const src = endpointText(s.flow.srcKey);
      const dst = endpointText(s.flow.dstKey);
      return {
        callId: s.callId,
        src: src.address,
        srcPort: src.port,
        dst: dst.address,
        dstPort: dst.port,
        ssrc: s.ssrc,
        ...s.stats.figures(),
        payloadTypes,
        payloadNames: payloadTypes.map((pt) => s.formats.get(pt)?.name ?? unknownPayloadName(pt)).join(', '),
        firstTime: first,
        lastTime: last,
        startSeconds: Number(first - origin) / 1e9,
        endSeconds: Number(last - origin) / 1e9,
      };
    });
  }

  /**
   * The common case read in place: an IPv4 packet that is no fragment, carrying UDP whose length
   * fits the packet. False when it is anything else (the decoder reads it then), or when it is UDP
   * for the caller's SIP reading.
   */
  private ipv4Udp(record: CaptureRecord, d: Uint8Array, at: number): boolean {
    const length = d.length;
    if (length - at < 20) return false;
    const v = d[at]!;
    if (v >> 4 !== 4 || d[at + 9] !== 17) return false;
    const headerLength = (v & 0x0f) * 4;
    // RFC 791 §3.1: MF and the fragment offset (low 13 bits of bytes 6 and 7) both zero: whole.
    if ((d[at + 6]! & 0x3f) !== 0 || d[at + 7] !== 0 || headerLength < 20) return false;
    const totalLength = (d[at + 2]! << 8) | d[at + 3]!;
    if (totalLength < headerLength) return false;
    const end = Math.min(at + totalLength, length);
    const u = at + headerLength;
    if (end - u < 8) return false;
    const udpLength = (d[u + 4]! << 8) | d[u + 5]!;
    if (udpLength < 8 || u + udpLength > end) return false;
    const srcIp = ((d[at + 12]! << 24) | (d[at + 13]! << 16) | (d[at + 14]! << 8) | d[at + 15]!) >>> 0;
    const dstIp = ((d[at + 16]! << 24) | (d[at + 17]! << 16) | (d[at + 18]! << 8) | d[at + 19]!) >>> 0;
    const srcKey = srcIp * 65536 + ((d[u]! << 8) | d[u + 1]!);
    const dstKey = dstIp * 65536 + ((d[u + 2]! << 8) | d[u + 3]!);
    return this.udp(record, srcKey, dstKey, d, u + 8, u + udpLength);
  }

  /** Anything the in-place path left: the full decoder, then media or the caller's SIP reading. */
  private decoded(record: CaptureRecord): void {
    const decoded = this.decoder.decode(record);
    if (decoded.kind === 'skipped') {
      this.counts.skipped++;
      return;
    }
    if (decoded.kind === 'malformed') {
      this.counts.malformed++;
      this.firstMalformed ??= decoded.message;
      return;
    }
    if (decoded.kind !== 'segment') return;
    const segment = decoded.segment;
    if (segment.protocol === 'udp') {
      const srcKey = endpointKeyOfText(segment.src, segment.srcPort);
      const dstKey = endpointKeyOfText(segment.dst, segment.dstPort);
      const payload = segment.payload;
      if (srcKey !== undefined && dstKey !== undefined && this.udp(record, srcKey, dstKey, payload, 0, payload.length)) return;
    }
    this.onSegment?.(segment, record);
  }

  /** One UDP datagram in buf[start, end): true when it was taken (media) or dropped. */
  private udp(record: CaptureRecord, srcKey: EndpointKey, dstKey: EndpointKey, buf: Uint8Array, start: number, end: number): boolean {
    let flow = this.flows.get(srcKey)?.get(dstKey);
    if (flow === undefined) {
      // tshark's RTP conversations from SDP match datagrams from and to the announced endpoint.
      const endpoint = this.endpoints.get(dstKey) ?? this.endpoints.get(srcKey);
      if (endpoint === undefined && !this.anyUdp) {
        // A letter may start a SIP message (a method or "SIP/2.0"): RTP's first octet is 128..191.
        if (this.onSegment !== undefined && end > start && isLetter(buf[start]!)) return false;
        this.counts.otherUdp++;
        return true;
      }
      if (endpoint === undefined && this.onSegment !== undefined && end > start && isLetter(buf[start]!)) return false;
      flow = { srcKey, dstKey, endpoint, bySsrc: new Map(), last: undefined };
      let bySrc = this.flows.get(srcKey);
      if (bySrc === undefined) {
        bySrc = new Map();
        this.flows.set(srcKey, bySrc);
      }
      bySrc.set(dstKey, flow);
    }
    const header = this.header;
    if (readRtpHeaderAt(buf, start, end, header) !== undefined) {
      this.counts.notRtpOnMedia++;
      return true;
    }
    this.counts.rtp++;
    let stream = flow.last;
    if (stream === undefined || stream.ssrc !== header.ssrc) {
      stream = flow.bySsrc.get(header.ssrc);
      if (stream === undefined) {
        stream = {
          flow,
          ssrc: header.ssrc,
          callId: flow.endpoint?.callId,
          stats: new RtpStreamStats(),
          formats: new Map(),
          lastPayloadType: -1,
          lastFormat: undefined,
          firstSeconds: record.seconds,
          firstNanoseconds: record.nanoseconds,
          lastSeconds: record.seconds,
          lastNanoseconds: record.nanoseconds,
        };
        flow.bySsrc.set(header.ssrc, stream);
        this.streams.push(stream);
      }
      flow.last = stream;
    }
    if (header.payloadType !== stream.lastPayloadType) {
      let format = stream.formats.get(header.payloadType);
      if (format === undefined) {
        format = flow.endpoint?.formats?.get(header.payloadType) ?? STATIC_PAYLOAD_FORMATS.get(header.payloadType) ?? null;
        stream.formats.set(header.payloadType, format);
      }
      stream.lastPayloadType = header.payloadType;
      stream.lastFormat = format ?? undefined;
    }
    stream.lastSeconds = record.seconds;
    stream.lastNanoseconds = record.nanoseconds;
    // Exact: whole nanoseconds below 2^53 (a capture shorter than 104 days), divided once, as
    // rtp-streams.ts does with its bigint difference.
    const sinceOriginNs = (record.seconds - this.originSeconds) * 1e9 + (record.nanoseconds - this.originNanoseconds);
    stream.stats.add(header, sinceOriginNs / 1e6, stream.lastFormat);
    return true;
  }
}

function isLetter(octet: number): boolean {
  return (octet >= 0x41 && octet <= 0x5a) || (octet >= 0x61 && octet <= 0x7a);
}

const V4 = new Uint8Array(4);
const V6 = new Uint8Array(16);

function endpointKeyOfText(address: string, port: number): EndpointKey | undefined {
  if (ipv4Bytes(address, V4) !== undefined) return (((V4[0]! << 24) | (V4[1]! << 16) | (V4[2]! << 8) | V4[3]!) >>> 0) * 65536 + port;
  if (ipv6Bytes(address, V6) !== undefined) return `${formatIpv6(V6)}|${port}`;
  return undefined;
}

function endpointText(key: EndpointKey): { address: string; port: number } {
  if (typeof key === 'string') {
    const bar = key.lastIndexOf('|');
    return { address: key.slice(0, bar), port: Number(key.slice(bar + 1)) };
  }
  const port = key % 65536;
  const ip = (key - port) / 65536;
  return { address: `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`, port };
}
