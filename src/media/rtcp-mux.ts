/**
 * RTP and RTCP on one port (RFC 5761 §4): the second byte tells them apart. RTCP packet types
 * 192-223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206, XR 207) are the
 * values an RTP second byte has for payload types 64-95, which a multiplexed session does not use.
 */
export function isRtcp(packet: Uint8Array): boolean {
  const b = packet[1];
  return b !== undefined && b >= 192 && b <= 223;
}
