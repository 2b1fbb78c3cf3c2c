/**
 * The RTP fixed header (RFC 3550 §5.1) of a captured UDP payload, read only as far as stream
 * statistics need it: marker, payload type, sequence number, timestamp, SSRC, and the header's
 * length (CSRC list, §5.3.1 extension, padding) checked against the datagram. The payload is not
 * decoded: an SRTP packet (RFC 3711 §3.1: the header stays in the clear) reads the same.
 *
 * A datagram is RTP only when its first octet says so among the protocols that share a media port
 * (RFC 7983 §7), and its second octet is not an RTCP packet type (RFC 5761 §4, rtcp-mux). Reading
 * never throws: anything else is an error result naming what it is.
 */
import { err, ok, type Result } from '../lib/result.js';

/** RFC 3550 §5.1: the fixed header is 12 octets. */
export const RTP_FIXED_HEADER_BYTES = 12;

export interface RtpPacketHeader {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** Octets of payload after the header, its extension and CSRCs, without padding. */
  readonly payloadBytes: number;
}

/** Why a datagram is not read as RTP. */
export type NotRtp =
  | 'stun' // RFC 7983 §7: first octet 0..3
  | 'zrtp' // 16..19
  | 'dtls' // 20..63
  | 'turn-channel' // 64..79
  | 'rtcp' // 128..191 with an RTCP packet type (RFC 5761 §4)
  | 'short' // fewer octets than the header says
  | 'other'; // none of the above

export function readRtpPacket(datagram: Uint8Array): Result<RtpPacketHeader, NotRtp> {
  if (datagram.length === 0) return err('other');
  const b0 = datagram[0]!;
  // RFC 7983 §7: "If the value is in between 128 and 191 (inclusive) then the packet is RTP (or
  // RTCP, if both RTCP and RTP are being multiplexed over the same destination port)."
  if (b0 < 128 || b0 > 191) return err(kindByFirstOctet(b0));
  if (datagram.length < 2) return err('short');
  const b1 = datagram[1]!;
  // RFC 5761 §4: the second octet of RTCP (its packet type, 192..223 for SR, RR, SDES, BYE, APP
  // and feedback) reads as marker and payload type 64..95, which "conflict with the RTCP packet
  // types" and which an RTP stream on a shared port does not use.
  if (b1 >= 192 && b1 <= 223) return err('rtcp');
  if (datagram.length < RTP_FIXED_HEADER_BYTES) return err('short');
  let start = RTP_FIXED_HEADER_BYTES + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    // RFC 3550 §5.3.1: a 16-bit profile field, a 16-bit length in 32-bit words, then the words.
    if (datagram.length < start + 4) return err('short');
    start += 4 + ((datagram[start + 2]! << 8) | datagram[start + 3]!) * 4;
  }
  let end = datagram.length;
  // RFC 3550 §5.1: "The last octet of the padding contains a count of how many padding octets
  // should be ignored, including itself."
  if (b0 & 0x20) end -= datagram[end - 1]!;
  if (end < start) return err('short');
  return ok({
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: (datagram[2]! << 8) | datagram[3]!,
    timestamp: ((datagram[4]! << 24) | (datagram[5]! << 16) | (datagram[6]! << 8) | datagram[7]!) >>> 0,
    ssrc: ((datagram[8]! << 24) | (datagram[9]! << 16) | (datagram[10]! << 8) | datagram[11]!) >>> 0,
    payloadBytes: end - start,
  });
}

function kindByFirstOctet(b0: number): NotRtp {
  if (b0 <= 3) return 'stun';
  if (b0 >= 16 && b0 <= 19) return 'zrtp';
  if (b0 >= 20 && b0 <= 63) return 'dtls';
  if (b0 >= 64 && b0 <= 79) return 'turn-channel';
  return 'other';
}
