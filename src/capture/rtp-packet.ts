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
  const header: MutableRtpHeader = { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payloadBytes: 0 };
  const why = readRtpHeaderAt(datagram, 0, datagram.length, header);
  return why === undefined ? ok(header) : err(why);
}

/** A header `readRtpHeaderAt` fills in: one object reused for every packet of a capture. */
export interface MutableRtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payloadBytes: number;
}

/**
 * readRtpPacket over buf[start, end) without a copy or a view, into `out`: undefined when the
 * bytes are RTP (`out` then holds its header), else why not (`out` is left as it was or partly
 * written). For the capture scan, which reads millions of datagrams in place.
 */
export function readRtpHeaderAt(buf: Uint8Array, start: number, end: number, out: MutableRtpHeader): NotRtp | undefined {
  const length = end - start;
  if (length <= 0) return 'other';
  const b0 = buf[start]!;
  // RFC 7983 §7: "If the value is in between 128 and 191 (inclusive) then the packet is RTP (or
  // RTCP, if both RTCP and RTP are being multiplexed over the same destination port)."
  if (b0 < 128 || b0 > 191) return kindByFirstOctet(b0);
  if (length < 2) return 'short';
  const b1 = buf[start + 1]!;
  // RFC 5761 §4: the second octet of RTCP (its packet type, 192..223 for SR, RR, SDES, BYE, APP
  // and feedback) reads as marker and payload type 64..95, which "conflict with the RTCP packet
  // types" and which an RTP stream on a shared port does not use.
  if (b1 >= 192 && b1 <= 223) return 'rtcp';
  if (length < RTP_FIXED_HEADER_BYTES) return 'short';
  let payloadStart = start + RTP_FIXED_HEADER_BYTES + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    // RFC 3550 §5.3.1: a 16-bit profile field, a 16-bit length in 32-bit words, then the words.
    if (end < payloadStart + 4) return 'short';
    payloadStart += 4 + ((buf[payloadStart + 2]! << 8) | buf[payloadStart + 3]!) * 4;
  }
  let payloadEnd = end;
  // RFC 3550 §5.1: "The last octet of the padding contains a count of how many padding octets
  // should be ignored, including itself."
  if (b0 & 0x20) payloadEnd -= buf[end - 1]!;
  if (payloadEnd < payloadStart) return 'short';
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequence = (buf[start + 2]! << 8) | buf[start + 3]!;
  out.timestamp = ((buf[start + 4]! << 24) | (buf[start + 5]! << 16) | (buf[start + 6]! << 8) | buf[start + 7]!) >>> 0;
  out.ssrc = ((buf[start + 8]! << 24) | (buf[start + 9]! << 16) | (buf[start + 10]! << 8) | buf[start + 11]!) >>> 0;
  out.payloadBytes = payloadEnd - payloadStart;
  return undefined;
}

function kindByFirstOctet(b0: number): NotRtp {
  if (b0 <= 3) return 'stun';
  if (b0 >= 16 && b0 <= 19) return 'zrtp';
  if (b0 >= 20 && b0 <= 63) return 'dtls';
  if (b0 >= 64 && b0 <= 79) return 'turn-channel';
  return 'other';
}
