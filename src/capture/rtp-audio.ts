/**
 * The audio of captured RTP streams, as a receiver would have played it: each stream's packets
 * decoded and put where their RTP timestamp says (RFC 3550 §5.1: the timestamp "reflects the
 * sampling instant of the first octet in the RTP data packet"), so that a lost packet leaves a
 * gap of silence of its length and a late one still lands in its place.
 *
 * Feed it every UDP datagram of a capture in capture order. The codecs are handed in (a decoder
 * factory: src/capture does not import the media plane); what it cannot decode is counted by
 * name, and RFC 4733 telephone events and RFC 3389 comfort noise are skipped (they carry no
 * samples of the call's audio). The samples go to a sink per stream (a WAV file: wav-file.ts), so
 * memory stays constant whatever the capture's length.
 */
import { type RtpStreamId, type UdpDatagram } from './rtp-streams.js';
import { type PayloadFormat, STATIC_PAYLOAD_FORMATS, isComfortNoise, isTelephoneEvent } from './payload-formats.js';
import { type RtpPacketHeader, readRtpPacket } from './rtp-packet.js';

export interface AudioDecoder {
  /** Samples per second of what it decodes to. */
  readonly sampleRate: number;
  /** One packet's payload to samples (the array may be reused by the next call). */
  decode(payload: Uint8Array): Int16Array;
}

/** A fresh decoder for a payload format (decoders keep state: one per stream), or undefined. */
export type AudioDecoderFactory = (format: PayloadFormat) => AudioDecoder | undefined;

/** Where a stream's samples go: a WAV file, or memory in tests. */
export interface PcmSink {
  /** Writes samples from position `at`; false when the sink takes no more (a size limit). */
  write(at: number, pcm: Int16Array): boolean;
}

/** How far (in seconds) the RTP timestamps may drift from the capture times before we re-anchor. */
export const MAX_TIMESTAMP_DRIFT_SECONDS = 2;

export interface AudioTrackReport extends RtpStreamId {
  /** Capture time of the stream's first packet, of any payload type (ns since the epoch). */
  readonly firstTime: bigint;
  /** The decoded codec (the first decodable payload format's name), or undefined when none was. */
  readonly codec: string | undefined;
  readonly sampleRate: number | undefined;
  /** Capture time of the packet at sample position 0 (ns since the epoch). */
  readonly startTime: bigint | undefined;
  /** Samples from position 0 to the end of the last one written. */
  readonly samples: number;
  readonly decodedPackets: number;
  readonly telephoneEventPackets: number;
  readonly comfortNoisePackets: number;
  /** Packets of formats no decoder reads, by format name (e.g. "g729" → 500). */
  readonly undecodable: Readonly<Record<string, number>>;
  /** Decodable packets left out: of another sample rate than the stream's first, duplicates, before the start. */
  readonly skippedPackets: number;
  /** Times the timestamps jumped more than MAX_TIMESTAMP_DRIFT_SECONDS from the capture times (a new anchor each). */
  readonly timestampJumps: number;
}

/** One stream's audio. */
export class RtpAudioTrack {
  private codec: string | undefined;
  private sampleRate: number | undefined;
  private clockRate = 0;
  private readonly decoders = new Map<number, AudioDecoder | null>();
  // the anchor: the RTP timestamp and capture time of a packet at sample position `anchorPos`
  private anchorTs = 0;
  private anchorTime = 0n;
  private anchorPos = 0;
  private startTime: bigint | undefined;
  private samples = 0;
  private lastSequence = -1;
  private decoded = 0;
  private events = 0;
  private noise = 0;
  private skipped = 0;
  private jumps = 0;
  private sinkFull = false;
  private readonly undecodable: Record<string, number> = {};
  private sink: PcmSink | undefined;

  constructor(
    readonly id: RtpStreamId,
    private readonly firstTime: bigint,
    private readonly formatOf: (payloadType: number) => PayloadFormat | undefined,
    private readonly newDecoder: AudioDecoderFactory,
    private readonly openSink: (sampleRate: number) => PcmSink,
  ) {}

  add(time: bigint, header: RtpPacketHeader, payload: Uint8Array): void {
    const pt = header.payloadType;
    const format = this.formatOf(pt);
    if (isTelephoneEvent(format)) {
      this.events++;
      return;
    }
    if (isComfortNoise(pt) || format?.name.toUpperCase() === 'CN') {
      this.noise++;
      return;
    }
    let decoder = this.decoders.get(pt);
    if (decoder === undefined) {
      decoder = (format && this.newDecoder(format)) ?? null;
      this.decoders.set(pt, decoder);
    }
    if (decoder === null || format === undefined) {
      const name = format?.name ?? `payload type ${pt}`;
      this.undecodable[name] = (this.undecodable[name] ?? 0) + 1;
      return;
    }
    if (header.sequence === this.lastSequence || this.sinkFull) {
      this.skipped++;
      return;
    }
    if (this.sampleRate === undefined) {
      // the first decodable packet sets the stream's rate and its position 0
      this.sampleRate = decoder.sampleRate;
      this.clockRate = format.clockRate || decoder.sampleRate;
      this.codec = format.name;
      this.anchorTs = header.timestamp;
      this.anchorTime = time;
      this.startTime = time;
      this.sink = this.openSink(decoder.sampleRate);
    } else if (decoder.sampleRate !== this.sampleRate) {
      this.skipped++;
      return;
    }
    const rate = this.sampleRate;
    // RTP timestamps are 32-bit and wrap: the difference is read as a signed 32-bit number.
    const ticks = (header.timestamp - this.anchorTs) | 0;
    let at = this.anchorPos + Math.round((ticks * rate) / this.clockRate);
    const byTime = Math.round((Number(time - this.startTime!) * rate) / 1e9);
    if (Math.abs(at - byTime) > MAX_TIMESTAMP_DRIFT_SECONDS * rate) {
      // DEVIATION(RFC 3550 §5.1): a timestamp far from the capture time (a sender that restarted
      // its clock, a re-INVITE to another source under the same SSRC) is not followed, or one
      // jump could write hours of silence: the packet is placed by its capture time instead and
      // becomes the new anchor.
      this.jumps++;
      this.anchorTs = header.timestamp;
      this.anchorTime = time;
      this.anchorPos = byTime;
      at = byTime;
    }
    if (at < 0) {
      this.skipped++;
      return;
    }
    this.lastSequence = header.sequence;
    const pcm = decoder.decode(payload);
    if (!this.sink!.write(at, pcm)) {
      this.sinkFull = true;
      this.skipped++;
      return;
    }
    this.decoded++;
    if (at + pcm.length > this.samples) this.samples = at + pcm.length;
  }

  report(): AudioTrackReport {
    return {
      ...this.id,
      firstTime: this.firstTime,
      codec: this.codec,
      sampleRate: this.sampleRate,
      startTime: this.startTime,
      samples: this.samples,
      decodedPackets: this.decoded,
      telephoneEventPackets: this.events,
      comfortNoisePackets: this.noise,
      undecodable: { ...this.undecodable },
      skippedPackets: this.skipped,
      timestampJumps: this.jumps,
    };
  }
}

export interface RtpAudioOptions {
  readonly decoders: AudioDecoderFactory;
  /** The sink of a stream's samples, opened at its first decodable packet. */
  readonly openSink: (id: RtpStreamId, sampleRate: number) => PcmSink;
  /** Which streams to keep (default: every one), asked at a stream's first packet (`time`). */
  readonly select?: (id: RtpStreamId, time: bigint) => boolean;
  /** A payload type's format on a stream (from SDP), asked at its first packet (`time`); RFC 3551's static types otherwise. */
  readonly formatOf?: (id: RtpStreamId, payloadType: number, time: bigint) => PayloadFormat | undefined;
}

/** Every selected RTP stream of a capture, each its own RtpAudioTrack. */
export class RtpAudio {
  private readonly tracks = new Map<string, RtpAudioTrack | null>();

  constructor(private readonly options: RtpAudioOptions) {}

  /** One UDP datagram (RTP or not: others are left). */
  add(datagram: UdpDatagram): void {
    const read = readRtpPacket(datagram.payload);
    if (!read.ok) return;
    const header = read.value;
    const key = `${datagram.src}|${datagram.srcPort}|${datagram.dst}|${datagram.dstPort}|${header.ssrc}`;
    let track = this.tracks.get(key);
    if (track === undefined) {
      const id: RtpStreamId = { src: datagram.src, srcPort: datagram.srcPort, dst: datagram.dst, dstPort: datagram.dstPort, ssrc: header.ssrc };
      const { select, formatOf, decoders, openSink } = this.options;
      const time = datagram.time;
      track = select === undefined || select(id, time)
        ? new RtpAudioTrack(id, time, (pt) => formatOf?.(id, pt, time) ?? STATIC_PAYLOAD_FORMATS.get(pt), decoders, (rate) => openSink(id, rate))
        : null;
      this.tracks.set(key, track);
    }
    if (track === null) return;
    track.add(datagram.time, header, rtpPayload(datagram.payload, header));
  }

  /** The selected streams, in the order their first packet came. */
  reports(): AudioTrackReport[] {
    return [...this.tracks.values()].filter((t): t is RtpAudioTrack => t !== null).map((t) => t.report());
  }
}

/** The payload octets of a datagram readRtpPacket accepted: before the padding, after the header. */
export function rtpPayload(datagram: Uint8Array, header: RtpPacketHeader): Uint8Array {
  const end = datagram[0]! & 0x20 ? datagram.length - datagram[datagram.length - 1]! : datagram.length;
  return datagram.subarray(end - header.payloadBytes, end);
}
