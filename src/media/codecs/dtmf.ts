/**
 * DTMF across the bridge as RFC 4733 telephone events: a packet of one side's telephone-event
 * payload type rewritten for the other side (its payload type, its clock), event by event.
 *
 * The payload is one or more 4-byte event reports (RFC 4733 §2.3):
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * The event code, the E (end) bit, the R bit and the volume pass unchanged; the duration is in
 * timestamp units (RFC 4733 §2.3.5), so it is scaled to the output clock. The RTP timestamp marks
 * the event's start and stays the same in every packet of the event, the end packet's
 * retransmissions included (§2.5.1.2, §2.5.1.4): each packet is mapped on its own, so the
 * retransmissions come out alike too. The marker bit (the event's first packet, §2.5.1.2) is kept.
 *
 * Browsers offer telephone-event/48000 beside Opus and telephone-event/8000 beside G.711; phones
 * /8000. In a transcoded call the events join the transcoder's output stream (its SSRC, its
 * sequence numbers, its timeline: `OutputStream`); otherwise they keep the sender's SSRC and
 * sequence numbers, as the audio relayed beside them does.
 */
import type { CodecSpec } from '../side.js';
import { readRtpHeader, RTP_HEADER_BYTES, writeRtpHeader } from './rtp-header.js';
import { TimestampMap } from './timestamp-map.js';
import type { OutputStream } from './transcoder.js';

export const TELEPHONE_EVENT = 'telephone-event';

/** One event report of a telephone-event payload. */
export interface TelephoneEvent {
  readonly event: number;
  readonly end: boolean;
  /** The R bit, reserved: sent as 0, passed on as received. */
  readonly reserved: boolean;
  /** Power level in -dBm0, 0..63. */
  readonly volume: number;
  /** In timestamp units. */
  readonly duration: number;
}

/** The event reports of a telephone-event payload; undefined when its length is not a multiple of 4 (or 0). */
export function readTelephoneEvents(payload: Uint8Array): TelephoneEvent[] | undefined {
  if (payload.length === 0 || payload.length % 4 !== 0) return undefined;
  const events: TelephoneEvent[] = [];
  for (let i = 0; i < payload.length; i += 4) {
    const flags = payload[i + 1]!;
    events.push({
      event: payload[i]!,
      end: (flags & 0x80) !== 0,
      reserved: (flags & 0x40) !== 0,
      volume: flags & 0x3f,
      duration: (payload[i + 2]! << 8) | payload[i + 3]!,
    });
  }
  return events;
}

export function writeTelephoneEvent(e: TelephoneEvent, out: Uint8Array, at = 0): void {
  out[at] = e.event & 0xff;
  out[at + 1] = (e.end ? 0x80 : 0) | (e.reserved ? 0x40 : 0) | (e.volume & 0x3f);
  out[at + 2] = (e.duration >> 8) & 0xff;
  out[at + 3] = e.duration & 0xff;
}

export interface DtmfMapper {
  readonly from: CodecSpec;
  readonly to: CodecSpec;
  /** The packet for the other side, or undefined when `rtp` is not a telephone-event packet of `from`'s type (or is malformed). */
  map(rtp: Buffer): Buffer | undefined;
}

function isTelephoneEvent(codec: CodecSpec): boolean {
  return codec.name.toLowerCase() === TELEPHONE_EVENT && codec.clockRate > 0;
}

/**
 * A mapper from `from`'s telephone-event payload type and clock to `to`'s, or undefined when
 * either is not telephone-event. With `stream` (the transcoder of the same direction), packets go
 * out on that stream; without, they keep their SSRC and sequence number, and their timestamp is
 * kept (same clock) or scaled from the first event seen (different clocks).
 */
export function createDtmfMapper(from: CodecSpec, to: CodecSpec, stream?: OutputStream): DtmfMapper | undefined {
  if (!isTelephoneEvent(from) || !isTelephoneEvent(to)) return undefined;
  const durations = new TimestampMap(from.clockRate, to.clockRate, 0);
  let own: TimestampMap | undefined;

  return {
    from,
    to,
    map(rtp: Buffer): Buffer | undefined {
      const h = readRtpHeader(rtp);
      if (!h || h.payloadType !== from.pt) return undefined;
      const events = readTelephoneEvents(rtp.subarray(h.payloadStart, h.payloadEnd));
      if (!events) return undefined;
      let timestamp: number;
      if (stream) {
        timestamp = stream.timestampFor(h.timestamp);
      } else if (from.clockRate === to.clockRate) {
        timestamp = h.timestamp;
      } else {
        own ??= new TimestampMap(from.clockRate, to.clockRate, durations.scale(h.timestamp) >>> 0);
        timestamp = own.map(h.timestamp);
      }
      const ssrc = stream ? stream.ssrc : h.ssrc;
      const sequence = stream ? stream.nextSequence() : h.sequence;
      const out = writeRtpHeader(to.pt, h.marker, sequence, timestamp, ssrc, events.length * 4);
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        // DEVIATION(RFC 4733 §2.5.1.3): an event longer than the 16-bit duration can say in the
        // output clock (1.37 s at 48 kHz, 8.2 s at 8 kHz) should go on in segments; its duration
        // is held at 0xFFFF instead: a key held longer than 1.37 s towards a 48 kHz side reads as
        // held 1.37 s.
        const duration = Math.min(0xffff, durations.scale(e.duration));
        writeTelephoneEvent({ ...e, duration }, out, RTP_HEADER_BYTES + i * 4);
      }
      return out;
    },
  };
}
