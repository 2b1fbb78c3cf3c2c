/**
 * Sees the RTCP (and, when `rtp` is set, the RTP) packets that the plain RTP legs of anchored
 * calls accept from their phones, as the socket read them, with the call's Call-ID. The HEP
 * capture (app/hep) installs one in the media thread when collectors are configured; unset, a
 * packet pays one comparison. It must not throw and must not keep the thread.
 */
export interface MediaTap {
  /** Also RTP packets (their headers are what is sent); RTCP only when false. */
  readonly rtp: boolean;
  packet(bytes: Uint8Array, rtcp: boolean, callId: string, sourceAddress: string, sourcePort: number, destinationAddress: string, destinationPort: number): void;
}

/** This thread's tap. */
export let mediaTap: MediaTap | undefined;

export function setMediaTap(tap: MediaTap | undefined): void {
  mediaTap = tap;
}
