/**
 * The RTP fixed header (RFC 3550 §5.1), read and written as far as the codecs need it: marker,
 * payload type, sequence number, timestamp, SSRC, and where the payload lies past the CSRC list,
 * the header extension (§5.3.1) and any padding (the P bit: the last octet counts the padding).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * ```
 *
 * Reading never throws: a packet that is not RTP version 2 or whose lengths do not add up reads
 * as undefined.
 */
import { randomBytesFromPool } from '../../lib/random-pool.js';

export const RTP_HEADER_BYTES = 12;

export interface RtpHeader {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** The payload is packet[payloadStart, payloadEnd). */
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

export function readRtpHeader(packet: Uint8Array): RtpHeader | undefined {
  if (packet.length < RTP_HEADER_BYTES) return undefined;
  const b0 = packet[0]!;
  if (b0 >> 6 !== 2) return undefined;
  let start = RTP_HEADER_BYTES + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (packet.length < start + 4) return undefined;
    start += 4 + ((packet[start + 2]! << 8) | packet[start + 3]!) * 4;
  }
  let end = packet.length;
  if (b0 & 0x20) end -= packet[end - 1]!;
  if (end < start) return undefined;
  const b1 = packet[1]!;
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: (packet[2]! << 8) | packet[3]!,
    timestamp: ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0,
    ssrc: ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0,
    payloadStart: start,
    payloadEnd: end,
  };
}

/** A packet with a 12-byte header (no CSRC, no extension, no padding) and `payloadBytes` of room after it. */
export function writeRtpHeader(
  payloadType: number,
  marker: boolean,
  sequence: number,
  timestamp: number,
  ssrc: number,
  payloadBytes: number,
): Buffer {
  const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + payloadBytes);
  packet[0] = 0x80;
  packet[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  packet.writeUInt16BE(sequence & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  return packet;
}

/** A random 32-bit value, for an SSRC or an initial timestamp. */
export function random32(): number {
  const b = randomBytesFromPool(4);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** A random 16-bit value, for an initial sequence number. */
export function random16(): number {
  const b = randomBytesFromPool(2);
  return (b[0]! << 8) | b[1]!;
}
