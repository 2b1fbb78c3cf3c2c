/**
 * The legs the media plane can make, by profile: plain RTP here; WebRTC (ICE-lite + DTLS-SRTP)
 * and SDES-SRTP when their makers are given (webrtc-leg.ts, sdes-leg.ts).
 */
import type { MediaProfile } from '../lib/media-control.js';
import type { LegAddress } from './leg.js';
import type { LegFactory, LocalSecrets, UpdatableLeg } from './media-session.js';
import type { MediaPorts } from './port-pool.js';
import { createRtpLeg } from './rtp-leg.js';
import type { RemoteSide } from './side.js';

/** A maker of one profile's legs and of Parley's credentials towards such a side. */
export interface ProfileLegs {
  secrets(): LocalSecrets;
  create(ports: MediaPorts, local: LegAddress, remote: RemoteSide, secrets: LocalSecrets): UpdatableLeg;
}

export interface LegFactoryOptions {
  readonly webrtc?: ProfileLegs;
  readonly sdes?: ProfileLegs;
  /** performance.now() unless a test moves time. */
  readonly now?: () => number;
}

export function legFactory(options: LegFactoryOptions = {}): LegFactory {
  const rtp: ProfileLegs = {
    secrets: () => ({}),
    create: (ports, local, remote) => createRtpLeg({ rtpSocket: ports.rtp, rtcpSocket: ports.rtcp, local, remote, ...(options.now === undefined ? {} : { now: options.now }) }),
  };
  const byProfile: Partial<Record<MediaProfile, ProfileLegs>> = { rtp, ...(options.webrtc === undefined ? {} : { webrtc: options.webrtc }), ...(options.sdes === undefined ? {} : { sdes: options.sdes }) };
  const of = (profile: MediaProfile): ProfileLegs => {
    const legs = byProfile[profile];
    if (legs === undefined) throw new Error(`no legs of profile ${profile}`);
    return legs;
  };
  return {
    supports: (profile) => byProfile[profile] !== undefined,
    secrets: (profile) => of(profile).secrets(),
    create: (profile, ports, local, remote, secrets) => of(profile).create(ports, local, remote, secrets),
  };
}
