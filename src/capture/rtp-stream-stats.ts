/**
 * The statistics of one RTP stream (one SSRC from one source to one destination), packet by
 * packet in capture order, computed as Wireshark's RTP stream analysis computes them (tshark
 * 4.0, `-z rtp,streams`), so that `parley pcap streams` and tshark print the same figures:
 *
 * - expected and lost (RFC 3550 §6.4.1, A.3): expected = last sequence number seen (extended by
 *   the wrap-arounds counted) − first + 1; lost = expected − received. Late and duplicated
 *   packets make "lost" smaller, possibly negative, as in RFC 3550 §6.4.1 ("the loss may be negative
 *   if there are duplicates").
 * - sequence errors: how many packets did not follow their predecessor (a gap, a late packet, a
 *   duplicate).
 * - delta: the arrival time since the previous packet in time order, in ms.
 * - jitter (RFC 3550 §6.4.1, A.8): J(i) = J(i−1) + (|D(i−1,i)| − J(i−1))/16, D being the
 *   difference between the arrival spacing and the RTP timestamp spacing, here in ms (the
 *   timestamp spacing divided by the clock rate in kHz).
 *
 * Delta, jitter, their minimum, mean and maximum count only "regular" packets: not the first,
 * not one with the marker bit (a talkspurt's start, RFC 3551 §4.1), not comfort noise or the
 * packet after it, and not one whose timestamp lies before the stream's first (a stale packet).
 * Jitter needs the clock rate: none is computed for telephone events (RFC 4733 §2.2.1) or payload
 * types of unknown format.
 */
import { isComfortNoise, isTelephoneEvent, type PayloadFormat } from './payload-formats.js';
import type { RtpPacketHeader } from './rtp-packet.js';

/** Half the 32-bit timestamp space: a timestamp further ahead of the first is taken as behind it. */
const HALF_TIMESTAMP_RANGE = 0x80000000;
/** A sequence number this far below the previous one is a wrap past lost packets, not a late one. */
const WRAP_DISTANCE = 0xff00;

/** The figures of one stream (times in ms since the analysis origin, -1 where none was measured). */
export interface RtpStreamFigures {
  readonly packets: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
  /** Wrap-arounds of the sequence number counted. */
  readonly cycles: number;
  readonly expected: number;
  readonly lost: number;
  /** lost × 100 / expected (0 when nothing was expected). */
  readonly lostPercent: number;
  readonly sequenceErrors: number;
  readonly minDeltaMs: number;
  readonly meanDeltaMs: number;
  readonly maxDeltaMs: number;
  readonly minJitterMs: number;
  readonly meanJitterMs: number;
  readonly maxJitterMs: number;
  /** The clock rate of the last packet with a known one (0: none). */
  readonly clockRate: number;
  /** A sequence error or a stale timestamp was seen (tshark's "Problems?" column). */
  readonly problem: boolean;
}

export class RtpStreamStats {
  private packets = 0;
  private firstSequence = 0;
  private lastSequence = 0;
  /** The sequence number the next packet should follow. */
  private sequence = 0;
  private cycles = 0;
  /** Past a wrap of the sequence number, until it climbs above the first one again. */
  private wrapped = false;
  private sequenceErrors = 0;
  private firstTimestamp = 0;
  private payloadType = -1;
  /** Arrival (ms) of the last packet in time order, and its nominal time (ms since the first). */
  private lastArrivalMs = 0;
  private lastNominalMs = 0;
  private deltaMs = 0;
  private jitterMs = 0;
  private minDeltaMs = -1;
  private meanDeltaMs = 0;
  private maxDeltaMs = 0;
  private minJitterMs = -1;
  private meanJitterMs = 0;
  private maxJitterMs = 0;
  private clockRate = 0;
  private problem = false;

  /**
   * One packet of the stream, arrived at `arrivalMs` (ms since the analysis origin), whose
   * payload type has `format` (undefined: unknown).
   */
  add(header: RtpPacketHeader, arrivalMs: number, format: PayloadFormat | undefined): void {
    const seq = header.sequence;
    if (this.packets === 0) {
      this.firstSequence = seq;
      this.lastSequence = seq;
      this.sequence = seq;
      this.firstTimestamp = header.timestamp;
      this.lastArrivalMs = arrivalMs;
      this.lastNominalMs = 0;
      this.payloadType = header.payloadType;
      this.packets = 1;
      return;
    }

    // Is the timestamp at or after the first one (within half the 32-bit range, across a wrap)?
    const ahead = header.timestamp >= this.firstTimestamp;
    const inTimeOrder = ahead
      ? header.timestamp - this.firstTimestamp < HALF_TIMESTAMP_RANGE
      : 0xffffffff - this.firstTimestamp + header.timestamp < HALF_TIMESTAMP_RANGE;
    let wrongSequence = false;

    // DEVIATION(RFC 3550 A.1): A.1 keeps a "shifted count of seq. number cycles" from the
    // highest number seen, with a probation for new sources and MAX_DROPOUT/MAX_MISORDER bounds;
    // here, as Wireshark does (its figures are the ones compared): a number below the first
    // starts a cycle, a number above the first ends the wrap.
    if (inTimeOrder && !this.wrapped && (seq < this.firstSequence || (seq === 0 && this.lastSequence === 65535))) {
      this.cycles++;
      this.wrapped = true;
    } else if (inTimeOrder && this.wrapped && seq > this.firstSequence) {
      this.wrapped = false;
    }

    if (inTimeOrder && (seq === this.sequence + 1 || (this.sequence === 65535 && seq === 0))) {
      this.sequence = seq;
    } else if (inTimeOrder && (seq > this.sequence + 1 || this.sequence - seq > WRAP_DISTANCE)) {
      // a gap: packets lost (or still to come late)
      this.sequence = seq;
      wrongSequence = true;
    } else if (seq < this.sequence + 1) {
      // late or duplicated
      wrongSequence = true;
    }
    if (wrongSequence) this.sequenceErrors++;

    const comfortNoise = isComfortNoise(header.payloadType);
    const afterComfortNoise = isComfortNoise(this.payloadType);
    this.payloadType = header.payloadType;
    const clockRate = isTelephoneEvent(format) ? 0 : (format?.clockRate ?? 0);
    // DEVIATION(RFC 3550 A.8): A.8 works in timestamp units; here, as Wireshark, in ms, the
    // timestamp spacing divided by the clock rate in whole kHz (44100 Hz: 44, 11025 Hz: 11).
    const kHz = Math.trunc(clockRate / 1000);

    let currentJitterMs = 0;
    if (inTimeOrder) {
      if (kHz !== 0) {
        this.clockRate = clockRate;
        const nominalMs = ((header.timestamp - this.firstTimestamp) >>> 0) / kHz;
        const expectedMs = this.lastArrivalMs + (nominalMs - this.lastNominalMs);
        const d = Math.abs(arrivalMs - expectedMs);
        // RFC 3550 A.8: "s->jitter += (1./16.) * ((double)d - s->jitter);"
        currentJitterMs = (15 * this.jitterMs + d) / 16;
        this.deltaMs = arrivalMs - this.lastArrivalMs;
        this.jitterMs = currentJitterMs;
        this.lastNominalMs = nominalMs;
      } else {
        this.deltaMs = arrivalMs - this.lastArrivalMs;
      }
    }

    if (!header.marker && !comfortNoise && inTimeOrder && !afterComfortNoise) {
      if (this.deltaMs > this.maxDeltaMs) this.maxDeltaMs = this.deltaMs;
      if (this.minDeltaMs === -1 || this.deltaMs < this.minDeltaMs) this.minDeltaMs = this.deltaMs;
      // Wireshark's mean divides by the packets before this one, regular or not.
      this.meanDeltaMs = (this.meanDeltaMs * (this.packets - 1) + this.deltaMs) / this.packets;
      if (kHz !== 0) {
        if (this.jitterMs > this.maxJitterMs) this.maxJitterMs = this.jitterMs;
        this.meanJitterMs = (this.meanJitterMs * (this.packets - 1) + currentJitterMs) / this.packets;
        if (this.minJitterMs === -1 || this.jitterMs < this.minJitterMs) this.minJitterMs = this.jitterMs;
      }
    }

    if (wrongSequence || !inTimeOrder) this.problem = true;
    if (inTimeOrder) this.lastArrivalMs = arrivalMs;
    this.lastSequence = seq;
    this.packets++;
  }

  figures(): RtpStreamFigures {
    // DEVIATION(RFC 3550 A.3): "expected = extended_max - s->base_seq + 1" uses the highest
    // sequence number received; Wireshark, whose figures these are, uses the last one (the same
    // unless the last packet came late).
    const expected = this.packets === 0 ? 0 : this.lastSequence + this.cycles * 65536 - this.firstSequence + 1;
    const lost = expected - this.packets;
    return {
      packets: this.packets,
      firstSequence: this.firstSequence,
      lastSequence: this.lastSequence,
      cycles: this.cycles,
      expected,
      lost,
      lostPercent: expected !== 0 ? (lost * 100) / expected : 0,
      sequenceErrors: this.sequenceErrors,
      minDeltaMs: this.minDeltaMs,
      meanDeltaMs: this.meanDeltaMs,
      maxDeltaMs: this.maxDeltaMs,
      minJitterMs: this.minJitterMs,
      meanJitterMs: this.meanJitterMs,
      maxJitterMs: this.maxJitterMs,
      clockRate: this.clockRate,
      problem: this.problem,
    };
  }
}
