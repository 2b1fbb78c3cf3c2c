/**
 * Demultiplexing by first byte (RFC 7983 §7), for a port shared by STUN, ZRTP, DTLS, TURN
 * channels and RTP/RTCP:
 *
 * ```
 *                  +----------------+
 *                  |        [0..3] -+--> forward to STUN
 *                  |                |
 *                  |      [16..19] -+--> forward to ZRTP
 *                  |                |
 *      packet -->  |      [20..63] -+--> forward to DTLS
 *                  |                |
 *                  |      [64..79] -+--> forward to TURN Channel
 *                  |                |
 *                  |    [128..191] -+--> forward to RTP/RTCP
 *                  +----------------+
 * ```
 *
 * The other values (4..15, 80..127, 192..255) belong to none of them: 'unknown', to be dropped
 * on a media port. SIP is not in the figure: a SIP
 * message begins with a letter (65..90, which 64..79 overlaps) or with CRLF (13, 10), so on the SIP
 * port the test for STUN is `packetKind(b) === 'stun'` and then `isStunMessage` (message.ts), and
 * everything else is SIP's.
 */
export type PacketKind = 'stun' | 'zrtp' | 'dtls' | 'turn-channel' | 'rtp' | 'unknown';

export function packetKind(firstByte: number): PacketKind {
  if (firstByte <= 3) return firstByte >= 0 ? 'stun' : 'unknown';
  if (firstByte < 16) return 'unknown';
  if (firstByte < 20) return 'zrtp';
  if (firstByte < 64) return 'dtls';
  if (firstByte < 80) return 'turn-channel';
  if (firstByte < 128) return 'unknown';
  if (firstByte < 192) return 'rtp';
  return 'unknown';
}
