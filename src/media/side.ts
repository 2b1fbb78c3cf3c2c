/**
 * One side of an anchored call, as its SDP describes it (RemoteSide, from src/media's reading of a
 * parsed SDP) and as Parley describes itself to that side (LocalSide, written back as SDP). The
 * contract between the SDP negotiation (sdp → RemoteSide, LocalSide → sdp, codec choice) and the
 * media runtime (sockets, ICE-lite, DTLS-SRTP, SDES-SRTP, relay, transcoding). Only the first
 * audio m-line is anchored; other m-lines are refused (port 0) in what Parley writes.
 */
import type { MediaProfile } from '../lib/media-control.js';

/** One payload type of an m-line (rtpmap and fmtp; static types filled in from RFC 3551). */
export interface CodecSpec {
  readonly pt: number;
  /** Encoding name as written in rtpmap, e.g. `PCMU`, `PCMA`, `opus`, `G722`, `telephone-event`. */
  readonly name: string;
  /** RTP clock rate (G.722 is 8000 by RFC 3551's erratum, although it samples at 16 kHz). */
  readonly clockRate: number;
  readonly channels: number;
  readonly fmtp?: string;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface IceCandidate {
  readonly foundation: string;
  readonly component: number;
  readonly protocol: 'udp' | 'tcp';
  readonly priority: number;
  readonly address: string;
  readonly port: number;
  readonly type: 'host' | 'srflx' | 'prflx' | 'relay';
}

export interface IceParameters {
  readonly ufrag: string;
  readonly pwd: string;
  readonly candidates: readonly IceCandidate[];
  /** a=ice-lite (Parley's own side always says so towards browsers). */
  readonly lite: boolean;
}

export interface DtlsParameters {
  readonly setup: 'active' | 'passive' | 'actpass';
  /** a=fingerprint lines: hash function name in lower case (`sha-256`) and the colon-separated hex as written. */
  readonly fingerprints: readonly { readonly algorithm: string; readonly value: string }[];
}

/** a=crypto (RFC 4568): `AES_CM_128_HMAC_SHA1_80` and friends with their inline key (base64 of key ‖ salt). */
export interface SdesCrypto {
  readonly tag: number;
  readonly suite: string;
  /** base64 of master key ‖ master salt (the `inline:` value without lifetime or MKI). */
  readonly keySalt: string;
  /** lifetime and MKI as written (`|2^20|1:4`), kept for the reader; Parley refuses MKI when it writes. */
  readonly rest?: string;
}

/** What a side's SDP says about its audio stream. */
export interface RemoteSide {
  readonly profile: MediaProfile;
  /** The m-line's index in its SDP, and its mid when there is one (a=mid). */
  readonly mIndex: number;
  readonly mid?: string;
  /** Connection address (media-level c= or session-level c=) and its family. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  /** a=rtcp, or port + 1; equal to `port` with rtcp-mux. */
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
  readonly direction: Direction;
  /** Codecs in the order of preference written in the m-line. */
  readonly codecs: readonly CodecSpec[];
  readonly ptime?: number;
  readonly ice?: IceParameters;
  readonly dtls?: DtlsParameters;
  readonly crypto?: readonly SdesCrypto[];
  /** a=ssrc ids, in order of appearance (for the reader; RTP is latched by address, not by SSRC). */
  readonly ssrcs: readonly number[];
}

/** What Parley writes to a side: its own address and ports, and the side's own profile. */
export interface LocalSide {
  readonly profile: MediaProfile;
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  /** Separate RTCP port (port + 1) towards rtp/sdes sides; equal to `port` (rtcp-mux) towards webrtc. */
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
  readonly direction: Direction;
  readonly codecs: readonly CodecSpec[];
  readonly ptime?: number;
  readonly ice?: IceParameters;
  readonly dtls?: DtlsParameters;
  readonly crypto?: readonly SdesCrypto[];
  /** The SSRC Parley sends with towards this side (a=ssrc with a cname for browsers). */
  readonly ssrc: number;
}
