/**
 * One leg of an anchored call: Parley's end of the media towards one side. The runtime (the
 * session that bridges two legs) sees plaintext RTP and RTCP only; a leg hides what its side
 * speaks on the wire: plain RTP on a port pair with symmetric latching (rtp), SRTP with SDES
 * keys (sdes), or ICE-lite + DTLS-SRTP with rtcp-mux (webrtc).
 */
export interface LegAddress {
  readonly address: string;
  readonly port: number;
  /** Equal to `port` with rtcp-mux. */
  readonly rtcpPort: number;
}

export interface LegStats {
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Packets dropped by the leg: failed authentication, replay, unknown source, not RTP/RTCP. */
  readonly dropped: number;
}

export interface Leg {
  /** Plaintext RTP from the far end (decrypted and authenticated where the leg is secure). */
  onRtp: ((packet: Buffer) => void) | undefined;
  /** Plaintext RTCP (compound packets) from the far end. */
  onRtcp: ((packet: Buffer) => void) | undefined;
  /** Send plaintext RTP: the leg protects it and sends it to the side's current address (latched or ICE-selected); dropped while it has none. */
  sendRtp(packet: Buffer): void;
  sendRtcp(packet: Buffer): void;
  readonly local: LegAddress;
  /** The call it carries, for capture (media-tap.ts: plain RTP legs, whose RTCP is readable on the wire). */
  callId?: string | undefined;
  /** performance.now() of the last packet received from the side (0: none yet), for the no-media timeout. */
  readonly lastReceived: number;
  /** The leg can carry media: latched (rtp/sdes) or ICE nominated and DTLS connected (webrtc). */
  readonly ready: boolean;
  stats(): LegStats;
  /** Close its sockets; idempotent. */
  close(): void;
}
