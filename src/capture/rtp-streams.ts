/**
 * RTP streams in captured traffic, as `tshark -q -z rtp,streams` lists them: feed it every UDP
 * datagram of a capture in capture order; it keeps, per stream (source address and port,
 * destination address and port, SSRC: RFC 3550 §8 "the SSRC identifier ... within a particular
 * RTP session"), the payload types seen, the first and last arrival, and the figures of
 * rtp-stream-stats.ts. Datagrams that are not RTP (RTCP, STUN, DTLS, …: rtp-packet.ts) are
 * counted and left.
 *
 * Times are nanoseconds since the Unix epoch as a bigint: a pcap timestamp (seconds and micro- or
 * nanoseconds) is exact in it, where a double of epoch seconds keeps only about 0.2 µs, enough to
 * change the third decimal of a delta in ms. Arrivals are turned into ms since the origin (the
 * capture's first frame, as tshark's relative times; by default the first datagram fed) before any
 * arithmetic, exact while the capture spans less than 104 days.
 *
 * Memory grows with the number of streams, not packets.
 */
import { type PayloadFormat, STATIC_PAYLOAD_FORMATS, unknownPayloadName } from './payload-formats.js';
import { readRtpPacket } from './rtp-packet.js';
import { type RtpStreamFigures, RtpStreamStats } from './rtp-stream-stats.js';

/** One captured UDP datagram. */
export interface UdpDatagram {
  /** Arrival, in nanoseconds since the Unix epoch. */
  readonly time: bigint;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** Who a stream is: RFC 3550's SSRC on one path. */
export interface RtpStreamId {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly ssrc: number;
}

export interface RtpStreamReport extends RtpStreamId, RtpStreamFigures {
  /** The payload types seen, ascending. */
  readonly payloadTypes: readonly number[];
  /** Their names joined with ", " (tshark's Payload column), e.g. "g711U, telephone-event". */
  readonly payloadNames: string;
  /** First and last arrival, ns since the epoch. */
  readonly firstTime: bigint;
  readonly lastTime: bigint;
  /** First and last arrival, seconds since the origin (tshark's Start time and End time). */
  readonly startSeconds: number;
  readonly endSeconds: number;
}

export interface RtpStreamsOptions {
  /** Time zero of the relative times, ns since the epoch (default: the first datagram's time). */
  readonly origin?: bigint;
  /**
   * The format of a payload type on a stream, e.g. from the call's SDP (a=rtpmap). Without one,
   * or when it answers undefined, `payloadFormats` and then RFC 3551's static types are used.
   */
  readonly formatOf?: (id: RtpStreamId, payloadType: number) => PayloadFormat | undefined;
  /** Payload types for every stream (dynamic ones from SDP, or static ones overridden). */
  readonly payloadFormats?: ReadonlyMap<number, PayloadFormat>;
}

interface StreamEntry {
  readonly id: RtpStreamId;
  readonly stats: RtpStreamStats;
  /** The format of each payload type seen (null: unknown), indexed by payload type. */
  readonly formats: Map<number, PayloadFormat | null>;
  readonly firstTime: bigint;
  lastTime: bigint;
}

export class RtpStreams {
  private origin: bigint | undefined;
  private readonly streams = new Map<string, StreamEntry>();
  private notRtp = 0;
  private readonly options: RtpStreamsOptions;

  constructor(options: RtpStreamsOptions = {}) {
    this.options = options;
    this.origin = options.origin;
  }

  /** One datagram; true when it was read as RTP. */
  add(datagram: UdpDatagram): boolean {
    if (this.origin === undefined) this.origin = datagram.time;
    const read = readRtpPacket(datagram.payload);
    if (!read.ok) {
      this.notRtp++;
      return false;
    }
    const header = read.value;
    const key = `${datagram.src}|${datagram.srcPort}|${datagram.dst}|${datagram.dstPort}|${header.ssrc}`;
    let entry = this.streams.get(key);
    if (entry === undefined) {
      entry = {
        id: { src: datagram.src, srcPort: datagram.srcPort, dst: datagram.dst, dstPort: datagram.dstPort, ssrc: header.ssrc },
        stats: new RtpStreamStats(),
        formats: new Map(),
        firstTime: datagram.time,
        lastTime: datagram.time,
      };
      this.streams.set(key, entry);
    }
    let format = entry.formats.get(header.payloadType);
    if (format === undefined) {
      format = this.formatOf(entry.id, header.payloadType) ?? null;
      entry.formats.set(header.payloadType, format);
    }
    entry.lastTime = datagram.time;
    entry.stats.add(header, Number(datagram.time - this.origin) / 1e6, format ?? undefined);
    return true;
  }

  /** Datagrams fed that were not RTP. */
  get notRtpDatagrams(): number {
    return this.notRtp;
  }

  /** The streams, in the order their first packet came. */
  reports(): RtpStreamReport[] {
    const origin = this.origin ?? 0n;
    return [...this.streams.values()].map((entry) => {
      const payloadTypes = [...entry.formats.keys()].sort((a, b) => a - b);
      return {
        ...entry.id,
        ...entry.stats.figures(),
        payloadTypes,
        payloadNames: payloadTypes.map((pt) => entry.formats.get(pt)?.name ?? unknownPayloadName(pt)).join(', '),
        firstTime: entry.firstTime,
        lastTime: entry.lastTime,
        startSeconds: Number(entry.firstTime - origin) / 1e9,
        endSeconds: Number(entry.lastTime - origin) / 1e9,
      };
    });
  }

  private formatOf(id: RtpStreamId, payloadType: number): PayloadFormat | undefined {
    return (
      this.options.formatOf?.(id, payloadType) ??
      this.options.payloadFormats?.get(payloadType) ??
      STATIC_PAYLOAD_FORMATS.get(payloadType)
    );
  }
}
