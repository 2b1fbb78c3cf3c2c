/**
 * ChannelData messages (RFC 8656 §12.4): application data between a client and its TURN server
 * with a 4-byte header instead of a Send or Data indication.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Channel Number        |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * /                       Application Data                        /
 * ```
 *
 * On the relay's hot path: no allocation beyond the result, and the data is a view.
 */
import { err, ok, type Result } from '../lib/result.js';
import type { StunParseError } from './message.js';
import { isChannelNumber } from './attribute-values.js';

export const CHANNEL_DATA_HEADER_SIZE = 4;

/**
 * Parses a ChannelData message in a datagram. RFC 8656 §12.5: "If the ChannelData message is
 * received in a UDP datagram, and if the UDP datagram is too short to contain the claimed length of
 * the ChannelData message (i.e., the UDP datagram is shorter than 4 + Length), then the message is
 * silently discarded." Bytes past the length (the optional padding) are left out of `data`.
 * A channel number outside 0x4000–0x4FFF is an error: RFC 8656 §12 reserves 0x5000–0xFFFF
 * ("For DTLS-SRTP multiplexing collision avoidance, see [RFC7983]") and 0x0000–0x3FFF is STUN's.
 */
export function parseChannelData(bytes: Uint8Array): Result<{ channel: number; data: Uint8Array }, StunParseError> {
  if (bytes.length < CHANNEL_DATA_HEADER_SIZE) return err({ reason: `ChannelData of ${bytes.length} bytes is shorter than its 4-byte header`, offset: bytes.length });
  const channel = (bytes[0]! << 8) | bytes[1]!;
  if (!isChannelNumber(channel)) return err({ reason: `channel number 0x${channel.toString(16)} is not between 0x4000 and 0x4fff`, offset: 0 });
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (CHANNEL_DATA_HEADER_SIZE + length > bytes.length) {
    return err({ reason: `ChannelData length ${length} is more than the ${bytes.length - CHANNEL_DATA_HEADER_SIZE} bytes after the header`, offset: 2 });
  }
  return ok({ channel, data: bytes.subarray(CHANNEL_DATA_HEADER_SIZE, CHANNEL_DATA_HEADER_SIZE + length) });
}

/**
 * A ChannelData message holding `data`. RFC 8656 §12.5: "Over TCP and TLS-over-TCP, the ChannelData
 * message MUST be padded to a multiple of four bytes in order to ensure the alignment of subsequent
 * messages. The padding is not reflected in the length field"; "over UDP, the padding is not
 * required but MAY be included". `padded` for a stream.
 */
export function buildChannelData(channel: number, data: Uint8Array, padded: boolean): Uint8Array {
  if (!isChannelNumber(channel)) throw new TypeError(`channel number 0x${channel.toString(16)} is not between 0x4000 and 0x4fff`);
  if (data.length > 0xffff) throw new TypeError(`ChannelData holds at most 65535 bytes, not ${data.length}`);
  const size = CHANNEL_DATA_HEADER_SIZE + (padded ? (data.length + 3) & ~3 : data.length);
  const out = new Uint8Array(size);
  writeChannelDataHeader(out, 0, channel, data.length);
  out.set(data, CHANNEL_DATA_HEADER_SIZE);
  return out;
}

/** Writes the 4-byte header at `at` (for a relay that puts the data after it in a buffer of its own). */
export function writeChannelDataHeader(out: Uint8Array, at: number, channel: number, length: number): void {
  out[at] = channel >> 8;
  out[at + 1] = channel & 0xff;
  out[at + 2] = length >> 8;
  out[at + 3] = length & 0xff;
}
