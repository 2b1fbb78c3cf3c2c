/**
 * Transcoding one direction of an anchored call whose sides share no codec: Opus ↔ PCMU, Opus ↔
 * PCMA, and PCMU ↔ PCMA. A Transcoder takes the plaintext RTP packets one side sends and returns
 * the packets to send the other side, in the other side's payload type and clock, as a stream of
 * Parley's own (its own SSRC, continuous sequence numbers, timestamps on the output clock).
 *
 * Opus ↔ G.711 goes through 16-bit PCM at 8 kHz: libopus encodes from and decodes to 8 kHz itself
 * (the cheaper way, measured in bench/media/codec-cost.ts), or, with `opusRate: 48000`, Opus works
 * at 48 kHz and resampler.ts converts. Output frames are 20 ms (RFC 7587's and RFC 3551's usual
 * packet time); PCM waits in a small queue when input and output frames differ in length. PCMU ↔ PCMA is a byte-for-byte table, one packet
 * out for each packet in.
 *
 * Timestamps: each output frame carries the input timeline mapped onto the output clock
 * (`timestampFor`), so a gap in the input's timestamps (silence suppression, a hold) is the same
 * gap in the output's, and DTMF events mapped with `timestampFor` land on the audio's timeline.
 * Lost Opus packets (a gap in sequence numbers) are concealed by libopus, so the G.711 side hears
 * extrapolated audio instead of a hole.
 */
import type { CodecSpec } from '../side.js';
import { g711Convert, g711Decode, g711Encode, type G711Law } from './g711.js';
import { OPUS_RATE, OpusCodec, type OpusOptions } from './opus-codec.js';
import { Downsampler, Upsampler } from './resampler.js';
import { random16, random32, readRtpHeader, RTP_HEADER_BYTES, writeRtpHeader } from './rtp-header.js';
import { TimestampMap } from './timestamp-map.js';

/** The output stream a Transcoder sends on, shared with the DTMF mapper of the same direction. */
export interface OutputStream {
  /** The SSRC of the packets Parley sends in this direction. */
  readonly ssrc: number;
  /** The output timestamp for an input timestamp (input clock → output clock, Parley's base). */
  timestampFor(inputTimestamp: number): number;
  /** The next sequence number of the output stream (each call consumes one). */
  nextSequence(): number;
}

export interface Transcoder extends OutputStream {
  readonly from: CodecSpec;
  readonly to: CodecSpec;
  /**
   * One plaintext RTP packet from the `from` side; the packets (none, one, or more) for the `to`
   * side. Give it every RTP packet of the stream, of any payload type: it answers [] to those not
   * of `from`'s type (telephone-event, comfort noise) but counts their sequence numbers, so that
   * they are not taken for lost packets. Never throws on bad input ([] instead).
   */
  transcode(rtp: Buffer): Buffer[];
  /** Free the codec state (Opus's wasm memory); idempotent. */
  close(): void;
}

type Kind = 'opus' | G711Law;

function kindOf(codec: CodecSpec): Kind | undefined {
  const name = codec.name.toLowerCase();
  if (name === 'opus' && codec.clockRate === OPUS_RATE) return 'opus';
  if (name === 'pcmu' && codec.clockRate === 8000) return 'PCMU';
  if (name === 'pcma' && codec.clockRate === 8000) return 'PCMA';
  return undefined;
}

/** Whether createTranscoder supports the pair (for the SDP negotiation's choice). */
export function canTranscode(from: CodecSpec, to: CodecSpec): boolean {
  const a = kindOf(from);
  const b = kindOf(to);
  return a !== undefined && b !== undefined && a !== b && (a !== 'opus' || b !== 'opus');
}

export interface TranscoderOptions {
  /** Opus encoder settings (bitrate, complexity, band); `rate` is `opusRate`'s. */
  readonly opus?: Omit<OpusOptions, 'rate'>;
  /**
   * The PCM rate Opus encodes from and decodes to: 8000 (default: libopus resamples inside) or
   * 48000 (resampler.ts's FIR between 8 and 48 kHz).
   */
  readonly opusRate?: 8000 | 48000;
}

/** A Transcoder for the pair, or undefined when the pair is not one of those supported. */
export function createTranscoder(from: CodecSpec, to: CodecSpec, options: TranscoderOptions = {}): Transcoder | undefined {
  const a = kindOf(from);
  const b = kindOf(to);
  if (a === undefined || b === undefined || a === b) return undefined;
  if (a !== 'opus' && b !== 'opus') return new G711Transcoder(from, to, a, b);
  const opus: OpusOptions = { ...options.opus, rate: options.opusRate ?? 8000 };
  if (a === 'opus' && b !== 'opus') return new PcmTranscoder(from, to, new OpusSource(opus), new G711Sink(b));
  if (a !== 'opus' && b === 'opus') return new PcmTranscoder(from, to, new G711Source(a), new OpusSink(opus));
  return undefined;
}

/** Packets a packet may come behind the last one and still be dropped as late rather than taken as a restart. */
const MISORDER = 100;
/** A larger forward jump in sequence numbers is a restart, not loss (and gets no concealment). */
const MAX_LOSS = 3000;

/** What the transcoders share: the output stream's identity, sequence numbers and timeline. */
abstract class StreamTranscoder implements Transcoder {
  readonly from: CodecSpec;
  readonly to: CodecSpec;
  // RFC 3550 §5.1: "The initial value of the sequence number SHOULD be random (unpredictable)"; the
  // same holds for the timestamp and the SSRC (§8.1).
  readonly ssrc = random32();
  private sequence = random16();
  protected readonly timeline: TimestampMap;
  /** The last sequence number seen on the input (any payload type), for loss detection. */
  protected lastInputSequence = -1;
  /** The input's SSRC: a new one (the sender restarted its stream) starts the input afresh. */
  private inputSsrc = -1;

  constructor(from: CodecSpec, to: CodecSpec) {
    this.from = from;
    this.to = to;
    this.timeline = new TimestampMap(from.clockRate, to.clockRate, random32());
  }

  timestampFor(inputTimestamp: number): number {
    return this.timeline.map(inputTimestamp);
  }

  nextSequence(): number {
    const s = this.sequence;
    this.sequence = (s + 1) & 0xffff;
    return s;
  }

  /**
   * How many packets were lost before this one (0 when none or unknown), or -1 for a duplicate or
   * a late packet (at most MISORDER behind the last one seen), which is dropped. A larger jump
   * either way is the sender starting over: taken as it comes.
   */
  protected advance(sequence: number): number {
    const last = this.lastInputSequence;
    if (last < 0) {
      this.lastInputSequence = sequence;
      return 0;
    }
    const d = (sequence - last) & 0xffff;
    if (d === 0 || (d >= 0x8000 && 0x10000 - d <= MISORDER)) return -1;
    this.lastInputSequence = sequence;
    return d < 0x8000 && d <= MAX_LOSS ? d - 1 : 0;
  }

  transcode(rtp: Buffer): Buffer[] {
    const h = readRtpHeader(rtp);
    if (!h) return [];
    if (h.ssrc !== this.inputSsrc) {
      // A new input stream (a re-INVITE, a restarted sender): its sequence numbers and timestamps
      // are its own. Parley's output stream goes on with its SSRC and sequence numbers, its
      // timeline resumed one 20 ms frame after where the old input stood.
      if (this.inputSsrc !== -1) {
        this.timeline.rebase(h.timestamp, this.timeline.currentOffset() + this.to.clockRate / 50);
        this.restart();
      }
      this.inputSsrc = h.ssrc;
      this.lastInputSequence = -1;
    }
    const lost = this.advance(h.sequence);
    if (h.payloadType !== this.from.pt || lost < 0) return [];
    const extended = this.timeline.extend(h.timestamp, true);
    return this.media(rtp.subarray(h.payloadStart, h.payloadEnd), extended, h.marker, lost);
  }

  /** The input stream starts over (new SSRC): drop what waits for the old one. */
  protected restart(): void {}

  protected abstract media(payload: Buffer, extendedTimestamp: number, marker: boolean, lost: number): Buffer[];

  abstract close(): void;
}

class G711Transcoder extends StreamTranscoder {
  private readonly fromLaw: G711Law;
  private readonly toLaw: G711Law;

  constructor(from: CodecSpec, to: CodecSpec, fromLaw: G711Law, toLaw: G711Law) {
    super(from, to);
    this.fromLaw = fromLaw;
    this.toLaw = toLaw;
  }

  protected media(payload: Buffer, extended: number, marker: boolean): Buffer[] {
    const ts = this.timeline.wrap(this.timeline.offsetOf(extended));
    const out = writeRtpHeader(this.to.pt, marker, this.nextSequence(), ts, this.ssrc, payload.length);
    g711Convert(this.fromLaw, this.toLaw, payload, out.subarray(RTP_HEADER_BYTES));
    return [out];
  }

  close(): void {}
}

/** Payload → PCM at the source codec's rate. */
interface PcmSource {
  readonly rate: number;
  /** Decode into `out`; -1 when the payload is not valid. */
  decode(payload: Uint8Array, out: Int16Array): number;
  /** Samples concealing `lost` packets (0 when the codec cannot conceal). */
  conceal(lost: number, out: Int16Array): number;
  close(): void;
}

/** PCM at the sink codec's rate → payload, one frame at a time. */
interface PcmSink {
  readonly rate: number;
  /** Samples per output frame (20 ms). */
  readonly frame: number;
  encode(pcm: Int16Array, offset: number): Buffer | undefined;
  close(): void;
}

class OpusSource implements PcmSource {
  readonly rate: number;
  private readonly codec: OpusCodec;
  private lastSamples: number;

  constructor(options: OpusOptions) {
    this.codec = new OpusCodec(options);
    this.rate = this.codec.rate;
    this.lastSamples = this.codec.frame;
  }

  decode(payload: Uint8Array, out: Int16Array): number {
    const n = this.codec.decode(payload, out);
    if (n > 0) this.lastSamples = n;
    return n;
  }

  conceal(lost: number, out: Int16Array): number {
    // libopus conceals up to 120 ms in one call; a longer gap is a gap.
    const wanted = lost * this.lastSamples;
    if (lost <= 0 || wanted > out.length || wanted > (this.rate * 120) / 1000) return 0;
    return Math.max(0, this.codec.decode(undefined, out, wanted));
  }

  close(): void {
    this.codec.close();
  }
}

class G711Source implements PcmSource {
  readonly rate = 8000;
  private readonly law: G711Law;
  constructor(law: G711Law) {
    this.law = law;
  }
  decode(payload: Uint8Array, out: Int16Array): number {
    if (payload.length > out.length) return -1;
    return g711Decode(this.law, payload, out);
  }
  conceal(): number {
    return 0;
  }
  close(): void {}
}

class OpusSink implements PcmSink {
  readonly rate: number;
  readonly frame: number;
  private readonly codec: OpusCodec;
  constructor(options: OpusOptions) {
    this.codec = new OpusCodec(options);
    this.rate = this.codec.rate;
    this.frame = this.codec.frame;
  }
  encode(pcm: Int16Array, offset: number): Buffer | undefined {
    return this.codec.encode(pcm, this.frame, offset);
  }
  close(): void {
    this.codec.close();
  }
}

class G711Sink implements PcmSink {
  readonly rate = 8000;
  readonly frame = 160;
  private readonly law: G711Law;
  constructor(law: G711Law) {
    this.law = law;
  }
  encode(pcm: Int16Array, offset: number): Buffer {
    const out = Buffer.allocUnsafe(this.frame);
    g711Encode(this.law, pcm, out, this.frame, offset);
    return out;
  }
  close(): void {}
}

/** Room for decoded PCM: libopus's largest frame (120 ms at 48 kHz), or a large G.711 packet. */
const DECODE_ROOM = 5760 * 2;
/** The queue of PCM awaiting a whole output frame, at the output rate. */
const QUEUE_ROOM = 5760 * 4;

class PcmTranscoder extends StreamTranscoder {
  private readonly source: PcmSource;
  private readonly sink: PcmSink;
  private readonly up: Upsampler | undefined;
  private readonly down: Downsampler | undefined;
  private readonly decoded = new Int16Array(DECODE_ROOM);
  private readonly resampled = new Int16Array(DECODE_ROOM * 6);
  private readonly queue = new Int16Array(QUEUE_ROOM);
  private queued = 0;
  /** Output-clock offset (from the timeline's base) of queue[0]. */
  private queueOffset = 0;
  /** Output-clock units per queued sample: 6 when Opus works at 8 kHz on its 48 kHz clock, else 1. */
  private readonly unitsPerSample: number;
  private queueMarker = false;
  private closed = false;

  constructor(from: CodecSpec, to: CodecSpec, source: PcmSource, sink: PcmSink) {
    super(from, to);
    this.source = source;
    this.sink = sink;
    this.unitsPerSample = to.clockRate / sink.rate;
    // 8 kHz ↔ 48 kHz: the only rates of the pairs supported.
    if (sink.rate > source.rate) this.up = new Upsampler(6);
    else if (sink.rate < source.rate) this.down = new Downsampler(6);
  }

  /** Decoded PCM (source rate) → output rate, appended to the queue at `offset` (output clock). */
  private enqueue(count: number, offset: number, marker: boolean): void {
    let pcm: Int16Array;
    let n: number;
    if (this.up) {
      n = this.up.process(this.decoded, this.resampled, count);
      pcm = this.resampled;
    } else if (this.down) {
      n = this.down.process(this.decoded, this.resampled, count);
      pcm = this.resampled;
    } else {
      n = count;
      pcm = this.decoded;
    }
    if (n > QUEUE_ROOM) return; // a packet of over 480 ms: not audio Parley relays
    // A discontinuity (a timestamp gap, a jump) starts the queue afresh: the part-frame waiting is
    // dropped rather than sent with a timestamp that is no longer its own.
    if (this.queued === 0 || this.queueOffset + this.queued * this.unitsPerSample !== offset || this.queued + n > QUEUE_ROOM) {
      this.queued = 0;
      this.queueOffset = offset;
      this.queueMarker = false;
    }
    this.queue.set(pcm.subarray(0, n), this.queued);
    this.queued += n;
    if (marker) this.queueMarker = true;
  }

  protected override restart(): void {
    this.queued = 0;
  }

  private drain(out: Buffer[]): void {
    const frame = this.sink.frame;
    let used = 0;
    while (this.queued - used >= frame) {
      const payload = this.sink.encode(this.queue, used);
      const ts = this.timeline.wrap(this.queueOffset + used * this.unitsPerSample);
      used += frame;
      if (!payload) continue;
      const packet = writeRtpHeader(this.to.pt, this.queueMarker, this.nextSequence(), ts, this.ssrc, payload.length);
      payload.copy(packet, RTP_HEADER_BYTES);
      this.queueMarker = false;
      out.push(packet);
    }
    if (used > 0) {
      this.queue.copyWithin(0, used, this.queued);
      this.queued -= used;
      this.queueOffset += used * this.unitsPerSample;
    }
  }

  protected media(payload: Buffer, extended: number, marker: boolean, lost: number): Buffer[] {
    if (this.closed) return [];
    const out: Buffer[] = [];
    const offset = this.timeline.offsetOf(extended);
    if (lost > 0) {
      const concealed = this.source.conceal(lost, this.decoded);
      if (concealed > 0) {
        this.enqueue(concealed, offset - (concealed * this.to.clockRate) / this.source.rate, false);
        this.drain(out);
      }
    }
    const n = this.source.decode(payload, this.decoded);
    if (n <= 0) return out;
    this.enqueue(n, offset, marker);
    this.drain(out);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.close();
    this.sink.close();
  }
}
