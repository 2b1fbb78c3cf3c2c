/**
 * What a crypto transform does to one packet once the SRTP context has found its index: seal
 * (encrypt and tag) or open (check and decrypt). The context keeps the rollover counters, the
 * replay lists and the MKI check; a transform only knows its layout and its keys.
 *
 * Layouts, with the optional MKI:
 * - AES-CM (RFC 3711 §3.1, §3.4): SRTP header ‖ payload ‖ MKI ‖ tag; SRTCP header(8) ‖ rest ‖
 *   E+index ‖ MKI ‖ tag.
 * - AES-GCM (RFC 7714 §8.1, §9.1): SRTP header ‖ payload+tag ‖ MKI; SRTCP header(8) ‖ rest+tag ‖
 *   E+index ‖ MKI.
 */
export interface SrtpTransform {
  readonly rtpTagLength: number;
  readonly rtcpTagLength: number;
  /** True when the MKI sits before the tag (AES-CM), false when it ends the packet (AES-GCM). */
  readonly mkiBeforeTag: boolean;
  /** The protected RTP packet; `h` is its header length, `mki` the MKI to write (may be empty). */
  sealRtp(packet: Uint8Array, h: number, ssrc: number, roc: number, seq: number, mki: Uint8Array): Buffer;
  /** The RTP packet, or undefined when authentication fails; `packet` is whole (MKI included). */
  openRtp(packet: Uint8Array, h: number, ssrc: number, roc: number, seq: number, mkiLength: number): Buffer | undefined;
  /** The protected RTCP packet with E = 1 and `index`. */
  sealRtcp(packet: Uint8Array, ssrc: number, index: number, mki: Uint8Array): Buffer;
  /** The RTCP packet, or undefined when authentication fails; `encrypted` is the E flag. */
  openRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean, mkiLength: number): Buffer | undefined;
}

export const SRTCP_INDEX_LENGTH = 4;
export const RTCP_HEADER_LENGTH = 8;
