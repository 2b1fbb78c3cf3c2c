/**
 * The media plane as the SIP proxy sees it: rtpengine's "ng" commands (offer, answer, delete),
 * carried between threads instead of over a socket. The proxy hands each SDP body of an anchored
 * call to the media plane and forwards the SDP it gets back; the media plane owns every SDP
 * decision (whether to anchor, codecs, ports, ICE, DTLS, SDES) and every socket. Neither side
 * imports the other: src/app wires an implementation (the media thread's client) into the proxy.
 */

/**
 * What a side of a call speaks, as Parley sees it from the signaling:
 *   webrtc  ICE + DTLS-SRTP, rtcp-mux (UDP/TLS/RTP/SAVPF): a browser, a WebSocket client
 *   rtp     plain RTP/AVP: a SIP phone, a trunk
 *   sdes    RTP/SAVP with a=crypto keys (RFC 4568)
 */
export type MediaProfile = 'webrtc' | 'rtp' | 'sdes';

/**
 * When to anchor: `auto` when the two sides differ (profile, codecs in common) or the offerer is
 * behind NAT; `always`; `off` (the proxy never asks). `dialog` (in-dialog offers only): anchor
 * only when the call already has a media session (a re-INVITE or UPDATE of an anchored call).
 */
export type AnchorMode = 'auto' | 'always' | 'dialog';

/** Where a signaling message came from (its source, as the transport saw it). */
export interface SignalingSource {
  readonly transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  readonly address: string;
  readonly port: number;
}

export interface MediaOfferRequest {
  readonly callId: string;
  /** The tag of the side that wrote this SDP: the From tag for an INVITE's offer, the To tag for an offer in a 2xx (late offer) or in a re-INVITE from the callee. */
  readonly fromTag: string;
  /**
   * The branch this copy of the offer goes out on (a forking proxy sends one offer per branch;
   * each gets its own ports on the far side); the answer names the same branch. For in-dialog
   * offers, any stable id of the transaction.
   */
  readonly branch: string;
  readonly sdp: string;
  readonly source: SignalingSource;
  /** What the side the offer goes to speaks (the proxy knows the target's transport: ws/wss → webrtc). Ignored for a call the media plane already knows (it remembers each side). */
  readonly towards: MediaProfile;
  readonly mode: AnchorMode;
}

export interface MediaAnswerRequest {
  readonly callId: string;
  /** The tag of the side whose offer this answers. */
  readonly fromTag: string;
  /** The tag of the side that wrote this answer (the To tag of an INVITE's response; the From tag of the ACK that answers a late offer). */
  readonly toTag: string;
  readonly branch: string;
  readonly sdp: string;
  readonly source: SignalingSource;
}

/**
 * The media plane's answer to an offer or answer:
 *   ok, anchored   forward `sdp` in place of the body received
 *   ok, !anchored  nothing to do: forward the body unchanged (auto mode found the sides alike, or no session for the call)
 *   !ok            refuse: the proxy answers `status` (488 for SDP it cannot serve) with
 *                  `Warning: <warnCode> <host> "<warning>"` (RFC 3261 §20.43: 300-399)
 */
export type MediaResult =
  | { readonly ok: true; readonly anchored: true; readonly sdp: string }
  | { readonly ok: true; readonly anchored: false }
  | { readonly ok: false; readonly status: number; readonly warnCode: number; readonly warning: string };

export interface MediaDeleteRequest {
  readonly callId: string;
  /** Only this side's pending branch (a fork that failed); the whole call without it. */
  readonly branch?: string;
  /** Why, for the log: `bye`, `cancel`, `failure 486`, … */
  readonly reason: string;
}

/** The commands; promises never reject (a media plane that is gone answers `!ok` with 503/500). */
export interface MediaControl {
  offer(request: MediaOfferRequest): Promise<MediaResult>;
  answer(request: MediaAnswerRequest): Promise<MediaResult>;
  delete(request: MediaDeleteRequest): Promise<void>;
}
