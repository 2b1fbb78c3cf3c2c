/** Building RTP packets for the capture tests. */

/**
 * An RTP packet (RFC 3550 §5.1: version 2, no padding, extension or CSRC) carrying `payload`, or
 * that many octets of 0xd5 (G.711 A-law silence) when it is a number.
 */
export function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, marker = false, payload: Uint8Array | number = 160): Uint8Array {
  const body = typeof payload === 'number' ? new Uint8Array(payload).fill(0xd5) : payload;
  const b = new Uint8Array(12 + body.length);
  const v = new DataView(b.buffer);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, ts >>> 0);
  v.setUint32(8, ssrc >>> 0);
  b.set(body, 12);
  return b;
}
