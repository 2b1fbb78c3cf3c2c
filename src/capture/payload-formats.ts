/**
 * What a payload type is: its encoding name and RTP clock rate. Static payload types have both in
 * RFC 3551 §6 (Tables 4 and 5); dynamic ones (96..127) only through signalling, an SDP
 * `a=rtpmap` (RFC 4566 §6), so the caller hands them in.
 *
 * The names are the short ones `tshark -z rtp,streams` prints in its Payload column, so that a
 * report reads like tshark's. The clock rates are RFC 3551's, including G.722's 8000 (RFC 3551
 * §4.5.2: "Even though the actual sampling rate for G.722 audio is 16,000 Hz, the RTP clock rate
 * for the G722 payload format is 8,000 Hz").
 */

export interface PayloadFormat {
  /** The encoding name (SDP's rtpmap name for dynamic types, e.g. "opus", "telephone-event"). */
  readonly name: string;
  /** The RTP timestamp clock in Hz; 0 when unknown (no jitter is computed then). */
  readonly clockRate: number;
}

/** RFC 3551 Tables 4 and 5, named as tshark names them. */
const STATIC: ReadonlyArray<readonly [number, string, number]> = [
  [0, 'g711U', 8000],
  [1, 'fs-1016', 8000],
  [2, 'g721', 8000],
  [3, 'GSM', 8000],
  [4, 'g723', 8000],
  [5, 'DVI4 8k', 8000],
  [6, 'DVI4 16k', 16000],
  [7, 'Exp. from Xerox PARC', 8000],
  [8, 'g711A', 8000],
  [9, 'g722', 8000],
  [10, '16-bit audio, stereo', 44100],
  [11, '16-bit audio, monaural', 44100],
  [12, 'Qualcomm', 8000],
  [13, 'CN', 8000],
  [14, 'MPEG-I/II Audio', 90000],
  [15, 'g728', 8000],
  [16, 'DVI4 11k', 11025],
  [17, 'DVI4 22k', 22050],
  [18, 'g729', 8000],
  [19, 'CN(old)', 8000],
  [25, 'CellB', 90000],
  [26, 'JPEG', 90000],
  [28, 'NV', 90000],
  [31, 'h261', 90000],
  [32, 'MPEG-I/II Video', 90000],
  [33, 'MPEG-II streams', 90000],
  [34, 'h263', 90000],
];

/** The static payload types of RFC 3551, by number. */
export const STATIC_PAYLOAD_FORMATS: ReadonlyMap<number, PayloadFormat> = new Map(
  STATIC.map(([pt, name, clockRate]) => [pt, { name, clockRate }]),
);

/** Comfort noise (RFC 3389 §4), and its older number 19 (RFC 1890). */
export function isComfortNoise(payloadType: number): boolean {
  return payloadType === 13 || payloadType === 19;
}

/**
 * RFC 4733 §2.2.1: the RTP timestamp of an event "is the time at which the event began", so it
 * stays the same across the packets of one event: such packets tell nothing about jitter.
 */
export function isTelephoneEvent(format: PayloadFormat | undefined): boolean {
  return format !== undefined && format.name.toLowerCase().startsWith('telephone-event');
}

/** The name of a payload type with no known format (superseded by unknownPayloadName, which names it as tshark does). */
export const UNKNOWN_PAYLOAD_NAME = 'Unknown';

/**
 * What tshark's Payload column prints for a payload type with no known format (Wireshark 4.0's
 * short payload type names): "RTPType-N" for the dynamic range 96-127 (RFC 3551 §3), the RTCP
 * conflict range 72-76 (RFC 5761 §4) named as such, "Unassigned" for the rest.
 */
export function unknownPayloadName(payloadType: number): string {
  if (payloadType >= 96 && payloadType <= 127) return `RTPType-${payloadType}`;
  if (payloadType >= 72 && payloadType <= 76) return 'Reserved for RTCP conflict avoidance';
  return 'Unassigned';
}
